-- Couriers a merchant can connect, in display order.
CREATE TABLE couriers (
    code     TEXT    PRIMARY KEY,
    name     TEXT    NOT NULL,
    position INTEGER NOT NULL
) WITHOUT ROWID;

-- Credential fields each courier asks for when a merchant connects an account.
CREATE TABLE courier_fields (
    courier  TEXT    NOT NULL REFERENCES couriers (code),
    name     TEXT    NOT NULL,
    label    TEXT    NOT NULL,
    secret   INTEGER NOT NULL DEFAULT 0,
    required INTEGER NOT NULL DEFAULT 1,
    hint     TEXT    NOT NULL DEFAULT '',
    position INTEGER NOT NULL,
    PRIMARY KEY (courier, name)
) WITHOUT ROWID;

-- Service presets per courier: default parcel size, weight and base price.
CREATE TABLE courier_presets (
    courier          TEXT    NOT NULL REFERENCES couriers (code),
    service_code     TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    weight_grams     INTEGER NOT NULL,
    length_cm        INTEGER NOT NULL,
    width_cm         INTEGER NOT NULL,
    height_cm        INTEGER NOT NULL,
    base_price_minor INTEGER NOT NULL,
    currency         TEXT    NOT NULL DEFAULT 'GBP',
    position         INTEGER NOT NULL,
    PRIMARY KEY (courier, service_code)
) WITHOUT ROWID;

INSERT INTO couriers (code, name, position) VALUES
    ('royal_mail',  'Royal Mail',  1),
    ('dpd',         'DPD',         2),
    ('dhl_express', 'DHL Express', 3),
    ('ups',         'UPS',         4),
    ('fedex',       'FedEx',       5),
    ('evri',        'Evri',        6),
    ('parcelforce', 'Parcelforce', 7),
    ('yodel',       'Yodel',       8);

INSERT INTO courier_fields (courier, name, label, secret, required, hint, position) VALUES
    ('royal_mail',  'client_id',       'Client ID',        0, 1, 'From the Royal Mail Developer Portal',           1),
    ('royal_mail',  'client_secret',   'Client secret',    1, 1, '',                                               2),
    ('royal_mail',  'account_number',  'Account number',   0, 1, 'Your 10-digit Royal Mail business account',      3),
    ('dpd',         'username',        'Username',         0, 1, 'From your DPD account manager',                  1),
    ('dpd',         'password',        'Password',         1, 1, '',                                               2),
    ('dpd',         'account_number',  'Account number',   0, 1, 'Shown on your DPD invoices',                     3),
    ('dhl_express', 'site_id',         'Site ID',          0, 1, 'MyDHL API username',                             1),
    ('dhl_express', 'password',        'Password',         1, 1, '',                                               2),
    ('dhl_express', 'account_number',  'Account number',   0, 1, '9-digit DHL Express account',                    3),
    ('ups',         'client_id',       'Client ID',        0, 1, 'From your app on the UPS Developer Portal',      1),
    ('ups',         'client_secret',   'Client secret',    1, 1, '',                                               2),
    ('ups',         'shipper_number',  'Shipper number',   0, 1, '6-character UPS account number',                 3),
    ('fedex',       'api_key',         'API key',          0, 1, 'From the FedEx Developer Portal',                1),
    ('fedex',       'secret_key',      'Secret key',       1, 1, '',                                               2),
    ('fedex',       'account_number',  'Account number',   0, 1, '9-digit FedEx account',                          3),
    ('fedex',       'meter_number',    'Meter number',     0, 0, 'Only needed for legacy integrations',            4),
    ('evri',        'client_id',       'Client ID',        0, 1, 'From your Evri account manager',                 1),
    ('evri',        'client_secret',   'Client secret',    1, 1, '',                                               2),
    ('parcelforce', 'username',        'Username',         0, 1, 'Your Parcelforce Worldwide web services login',  1),
    ('parcelforce', 'password',        'Password',         1, 1, '',                                               2),
    ('parcelforce', 'contract_number', 'Contract number',  0, 1, 'Printed on your Parcelforce contract',           3),
    ('parcelforce', 'department_id',   'Department ID',    0, 0, 'Leave blank to use the default department',      4),
    ('yodel',       'username',        'Username',         0, 1, 'From your Yodel account manager',                1),
    ('yodel',       'password',        'Password',         1, 1, '',                                               2),
    ('yodel',       'client_code',     'Client code',      0, 1, '',                                               3);

INSERT INTO courier_presets (courier, service_code, name, weight_grams, length_cm, width_cm, height_cm, base_price_minor, currency, position) VALUES
    ('royal_mail',  'TPN24',        'Tracked 24',                          1000,  35, 25, 16,  395, 'GBP', 1),
    ('royal_mail',  'TPS48',        'Tracked 48',                          1000,  35, 25, 16,  335, 'GBP', 2),
    ('royal_mail',  'SD1',          'Special Delivery Guaranteed by 1pm',  1000,  35, 25, 16,  895, 'GBP', 3),
    ('dpd',         'DPD_NEXT_DAY', 'Next Day',                            2000,  40, 30, 20,  675, 'GBP', 1),
    ('dpd',         'DPD_1200',     'By 12',                               2000,  40, 30, 20,  995, 'GBP', 2),
    ('dpd',         'DPD_SAT',      'Saturday',                            2000,  40, 30, 20, 1195, 'GBP', 3),
    ('dhl_express', 'DOM',          'Domestic Express',                    2000,  40, 30, 20,  995, 'GBP', 1),
    ('dhl_express', 'DOM1200',      'Domestic Express 12:00',              2000,  40, 30, 20, 1495, 'GBP', 2),
    ('dhl_express', 'WPX',          'Express Worldwide',                   2000,  40, 30, 20, 3495, 'GBP', 3),
    ('ups',         'UPS_STANDARD', 'Standard',                            2000,  40, 30, 20,  745, 'GBP', 1),
    ('ups',         'UPS_SAVER',    'Express Saver',                       2000,  40, 30, 20, 1295, 'GBP', 2),
    ('ups',         'UPS_EXPRESS',  'Express',                             2000,  40, 30, 20, 1795, 'GBP', 3),
    ('ups',         'UPS_WW_SAVER', 'Worldwide Saver',                     2000,  40, 30, 20, 3295, 'GBP', 4),
    ('fedex',       'FEDEX_UK_ND',  'UK Next Day',                         2000,  40, 30, 20,  825, 'GBP', 1),
    ('fedex',       'FEDEX_UK_PRI', 'UK Priority by 10:30',                2000,  40, 30, 20, 1595, 'GBP', 2),
    ('fedex',       'FEDEX_IP',     'International Priority',              2000,  40, 30, 20, 3695, 'GBP', 3),
    ('evri',        'EVRI_48',      'Standard 48',                         1000,  45, 35, 16,  285, 'GBP', 1),
    ('evri',        'EVRI_24',      'Next Day 24',                         1000,  45, 35, 16,  365, 'GBP', 2),
    ('evri',        'EVRI_SIG',     'Signature 48',                        1000,  45, 35, 16,  435, 'GBP', 3),
    ('parcelforce', 'SND',          'express48',                           5000,  60, 40, 30,  995, 'GBP', 1),
    ('parcelforce', 'SUP',          'express24',                           5000,  60, 40, 30, 1395, 'GBP', 2),
    ('parcelforce', 'S12',          'express AM',                          5000,  60, 40, 30, 1895, 'GBP', 3),
    ('parcelforce', 'S09',          'express9',                            5000,  60, 40, 30, 3295, 'GBP', 4),
    ('yodel',       'YODEL_48',     'Xpect 48',                            1000,  45, 35, 20,  325, 'GBP', 1),
    ('yodel',       'YODEL_24',     'Xpect 24',                            1000,  45, 35, 20,  425, 'GBP', 2);

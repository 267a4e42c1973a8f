-- The largest parcel each courier service takes: its weight (real or
-- volumetric, whichever is larger) and its longest side. A quote or a
-- shipment beyond them is refused instead of priced.
ALTER TABLE courier_presets ADD COLUMN max_weight_grams INTEGER NOT NULL DEFAULT 30000;
ALTER TABLE courier_presets ADD COLUMN max_length_cm INTEGER NOT NULL DEFAULT 150;
UPDATE courier_presets SET max_weight_grams = 20000, max_length_cm = 61 WHERE courier = 'royal_mail';
UPDATE courier_presets SET max_weight_grams = 30000, max_length_cm = 175 WHERE courier = 'dpd';
UPDATE courier_presets SET max_weight_grams = 70000, max_length_cm = 120 WHERE courier = 'dhl_express';
UPDATE courier_presets SET max_weight_grams = 70000, max_length_cm = 270 WHERE courier = 'ups';
UPDATE courier_presets SET max_weight_grams = 68000, max_length_cm = 274 WHERE courier = 'fedex';
UPDATE courier_presets SET max_weight_grams = 15000, max_length_cm = 120 WHERE courier = 'evri';
UPDATE courier_presets SET max_weight_grams = 30000, max_length_cm = 150 WHERE courier = 'parcelforce';
UPDATE courier_presets SET max_weight_grams = 15000, max_length_cm = 120 WHERE courier = 'yodel';

-- The browsers each user has signed in from, by the SHA-256 of a random id
-- kept in a long-lived cookie of that browser: a sign-in from a browser not
-- listed emails the user.
CREATE TABLE known_devices (
    user_id     BIGINT  NOT NULL REFERENCES users (id),
    device_hash BYTEA   NOT NULL,
    first_seen  BIGINT  NOT NULL,
    PRIMARY KEY (user_id, device_hash)
);

-- Boot events carry what consumers decide on as columns of their own, not words inside detail.
ALTER TABLE boot_event ADD COLUMN firmware VARCHAR(32);
ALTER TABLE boot_event ADD COLUMN address VARCHAR(45);
ALTER TABLE boot_event ADD COLUMN file_name VARCHAR(255);
ALTER TABLE boot_event ADD COLUMN dhcp VARCHAR(20);

ALTER TABLE `storage_pools` ADD `status` text DEFAULT 'Created' NOT NULL;--> statement-breakpoint
ALTER TABLE `storage_pools` ADD `defined_on` text DEFAULT '[]' NOT NULL;
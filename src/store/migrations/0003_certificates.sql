CREATE TABLE `certificates` (
	`fingerprint` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`certificate` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `trust_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`hash` text NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	`fingerprint` text,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `trust_tokens_hash_unique` ON `trust_tokens` (`hash`);
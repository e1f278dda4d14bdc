CREATE TABLE `join_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`hash` text NOT NULL,
	`member` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	`credential_id` text,
	`revoked_at` integer,
	`revoked_reason` text DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `join_tokens_hash_unique` ON `join_tokens` (`hash`);--> statement-breakpoint
CREATE INDEX `join_tokens_member` ON `join_tokens` (`member`);
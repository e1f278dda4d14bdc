CREATE TABLE `cluster_groups` (
	`name` text PRIMARY KEY NOT NULL,
	`description` text DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE TABLE `group_members` (
	`group_name` text NOT NULL,
	`member_name` text NOT NULL,
	PRIMARY KEY(`group_name`, `member_name`),
	FOREIGN KEY (`group_name`) REFERENCES `cluster_groups`(`name`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`member_name`) REFERENCES `members`(`name`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `group_members_member` ON `group_members` (`member_name`);--> statement-breakpoint
CREATE TABLE `instances` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project` text NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`architecture` text NOT NULL,
	`location` text NOT NULL,
	`status` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`config` text NOT NULL,
	`devices` text NOT NULL,
	`profiles` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`project`) REFERENCES `projects`(`name`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`location`) REFERENCES `members`(`name`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `instances_project_name` ON `instances` (`project`,`name`);--> statement-breakpoint
CREATE INDEX `instances_location` ON `instances` (`location`);--> statement-breakpoint
CREATE TABLE `members` (
	`name` text PRIMARY KEY NOT NULL,
	`url` text DEFAULT '' NOT NULL,
	`architecture` text NOT NULL,
	`failure_domain` text DEFAULT 'default' NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`roles` text NOT NULL,
	`config` text NOT NULL,
	`state` text DEFAULT 'CREATED' NOT NULL,
	`resources` text,
	`member_state` text,
	`last_heartbeat` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `operations` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`description` text NOT NULL,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`resources` text NOT NULL,
	`metadata` text NOT NULL,
	`input` text NOT NULL,
	`may_cancel` integer DEFAULT false NOT NULL,
	`err` text DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `operations_status` ON `operations` (`status`);--> statement-breakpoint
CREATE TABLE `projects` (
	`name` text PRIMARY KEY NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`config` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `server_config` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `storage_pools` (
	`name` text PRIMARY KEY NOT NULL,
	`driver` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`config` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`hash` text NOT NULL,
	`role` text NOT NULL,
	`member` text,
	`description` text DEFAULT '' NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tokens_hash_unique` ON `tokens` (`hash`);
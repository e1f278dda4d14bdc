CREATE TABLE "changes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"origin" text NOT NULL,
	"kind" text NOT NULL,
	"body" json NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cluster_groups" (
	"name" text COLLATE "C" PRIMARY KEY NOT NULL,
	"description" text DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "group_members" (
	"group_name" text COLLATE "C" NOT NULL,
	"member_name" text COLLATE "C" NOT NULL,
	CONSTRAINT "group_members_group_name_member_name_pk" PRIMARY KEY("group_name","member_name")
);
--> statement-breakpoint
CREATE TABLE "instances" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "instances_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"project" text COLLATE "C" NOT NULL,
	"name" text COLLATE "C" NOT NULL,
	"type" text NOT NULL,
	"architecture" text NOT NULL,
	"location" text COLLATE "C" NOT NULL,
	"status" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"config" json NOT NULL,
	"devices" json NOT NULL,
	"profiles" json NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "join_tokens" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"seq" bigserial NOT NULL,
	"hash" text NOT NULL,
	"member" text COLLATE "C" NOT NULL,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"used_at" bigint,
	"credential_id" text,
	"revoked_at" bigint,
	"revoked_reason" text DEFAULT '' NOT NULL,
	CONSTRAINT "join_tokens_hash_unique" UNIQUE("hash")
);
--> statement-breakpoint
CREATE TABLE "leases" (
	"name" text COLLATE "C" PRIMARY KEY NOT NULL,
	"holder" text NOT NULL,
	"epoch" bigint NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "members" (
	"name" text COLLATE "C" PRIMARY KEY NOT NULL,
	"url" text DEFAULT '' NOT NULL,
	"architecture" text NOT NULL,
	"failure_domain" text DEFAULT 'default' NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"roles" json NOT NULL,
	"config" json NOT NULL,
	"state" text DEFAULT 'CREATED' NOT NULL,
	"resources" json,
	"member_state" json,
	"last_heartbeat" bigint,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "operations" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"description" text NOT NULL,
	"status" text NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"resources" json NOT NULL,
	"metadata" json NOT NULL,
	"input" json NOT NULL,
	"may_cancel" boolean DEFAULT false NOT NULL,
	"err" text DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "projects" (
	"name" text COLLATE "C" PRIMARY KEY NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"config" json NOT NULL
);
--> statement-breakpoint
CREATE TABLE "replicas" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"urls" json NOT NULL,
	"last_seen" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "server_config" (
	"key" text COLLATE "C" PRIMARY KEY NOT NULL,
	"value" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "shared_values" (
	"name" text COLLATE "C" PRIMARY KEY NOT NULL,
	"value" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "storage_pools" (
	"name" text COLLATE "C" PRIMARY KEY NOT NULL,
	"driver" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"config" json NOT NULL,
	"status" text DEFAULT 'Created' NOT NULL,
	"defined_on" json DEFAULT '[]'::json NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tokens" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"hash" text NOT NULL,
	"role" text NOT NULL,
	"member" text,
	"description" text DEFAULT '' NOT NULL,
	"created_at" bigint NOT NULL,
	"last_used_at" bigint,
	CONSTRAINT "tokens_hash_unique" UNIQUE("hash")
);
--> statement-breakpoint
ALTER TABLE "group_members" ADD CONSTRAINT "group_members_group_name_cluster_groups_name_fk" FOREIGN KEY ("group_name") REFERENCES "public"."cluster_groups"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "group_members" ADD CONSTRAINT "group_members_member_name_members_name_fk" FOREIGN KEY ("member_name") REFERENCES "public"."members"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "instances" ADD CONSTRAINT "instances_project_projects_name_fk" FOREIGN KEY ("project") REFERENCES "public"."projects"("name") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "instances" ADD CONSTRAINT "instances_location_members_name_fk" FOREIGN KEY ("location") REFERENCES "public"."members"("name") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "group_members_member" ON "group_members" USING btree ("member_name");--> statement-breakpoint
CREATE UNIQUE INDEX "instances_project_name" ON "instances" USING btree ("project","name");--> statement-breakpoint
CREATE INDEX "instances_location" ON "instances" USING btree ("location");--> statement-breakpoint
CREATE INDEX "join_tokens_member" ON "join_tokens" USING btree ("member");--> statement-breakpoint
CREATE INDEX "operations_status" ON "operations" USING btree ("status");
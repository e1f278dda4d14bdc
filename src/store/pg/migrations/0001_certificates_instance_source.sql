CREATE TABLE "certificates" (
	"fingerprint" text COLLATE "C" PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"certificate" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "trust_tokens" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"seq" bigserial NOT NULL,
	"hash" text NOT NULL,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"used_at" bigint,
	"fingerprint" text,
	"revoked_at" bigint,
	CONSTRAINT "trust_tokens_hash_unique" UNIQUE("hash")
);
--> statement-breakpoint
ALTER TABLE "instances" ADD COLUMN "source" json;
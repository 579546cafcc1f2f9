-- CreateTable
CREATE TABLE "incoming_webhook_events" (
    "id" UUID NOT NULL,
    "provider" VARCHAR(50) NOT NULL,
    "event_id" VARCHAR(255) NOT NULL,
    "type" VARCHAR(255) NOT NULL,
    "object_id" VARCHAR(255),
    "event_created_at" TIMESTAMPTZ(3) NOT NULL,
    "payload" JSONB NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "processed_at" TIMESTAMPTZ(3),
    "outcome" VARCHAR(20),

    CONSTRAINT "incoming_webhook_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "stripe_subscriptions" (
    "id" VARCHAR(255) NOT NULL,
    "customer_id" VARCHAR(255) NOT NULL,
    "status" VARCHAR(50) NOT NULL,
    "event_created_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "stripe_subscriptions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "incoming_webhook_events_provider_object_id_idx" ON "incoming_webhook_events"("provider", "object_id");

-- CreateIndex
CREATE UNIQUE INDEX "incoming_webhook_events_provider_event_id_key" ON "incoming_webhook_events"("provider", "event_id");

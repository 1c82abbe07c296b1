"use client";
import { Card } from "@/components/ui/Card";
import { EmptyState } from "@/components/ui/EmptyState";

export default function ConversationsIndex() {
  return (
    <Card variant="flat" className="ns-thread-placeholder">
      <EmptyState id="no-thread" title="Pick a conversation">
        Select a conversation in the inbox to read the thread, take it over and reply as an agent.
      </EmptyState>
    </Card>
  );
}

"use client";
/**
 * Dead letters: outbox rows (alert notifications, routing, health checks)
 * that used up their delivery attempts. Operators read them with the last
 * error; admins make one due again with fresh attempts (audited as
 * `outbox.retried`), the runbook's "dead-letter retries".
 */
import { useState } from "react";
import { Button } from "@/components/ui/Button";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { EmptyState } from "@/components/ui/EmptyState";
import { ErrorState } from "@/components/ui/ErrorState";
import { Field } from "@/components/ui/Field";
import { Input } from "@/components/ui/Input";
import { Loading } from "@/components/ui/Loading";
import { Notice } from "@/components/ui/Notice";
import { PageHeader } from "@/components/ui/PageHeader";
import { Table } from "@/components/ui/Table";
import { useToast } from "@/components/ui/Toast";
import { describeError } from "@/lib/api";
import { useApi, useAuth } from "@/lib/auth";
import { dateTime } from "@/lib/format";
import { type DeadLetter, roleAtLeast } from "@/lib/types";
import { usePoll } from "@/lib/use-poll";

export default function DeadLettersPage() {
  const api = useApi();
  const { me } = useAuth();
  const toast = useToast();
  const canRetry = roleAtLeast(me?.role, "admin");
  const [topicInput, setTopicInput] = useState("");
  const [topic, setTopic] = useState("");
  const [confirming, setConfirming] = useState<DeadLetter | null>(null);
  const letters = usePoll(
    (signal) => api.deadLetters({ topic: topic.trim() || undefined, limit: 50 }, signal),
    [api, topic],
    30000,
  );
  const rows = letters.data?.data ?? [];

  return (
    <>
      <PageHeader
        title="Dead letters"
        description="Deliveries to the Edge Functions that failed every attempt: alert notifications, routing, health checks."
      />
      {!canRetry ? <Notice tone="info">You can read dead letters; admins retry them.</Notice> : null}
      <form
        className="ns-filters"
        role="search"
        aria-label="Filter dead letters"
        onSubmit={(event) => {
          event.preventDefault();
          setTopic(topicInput);
        }}
      >
        <Field label="Topic">
          {(control) => (
            <Input {...control} placeholder="alert-dispatch" value={topicInput} onChange={(event) => setTopicInput(event.target.value)} />
          )}
        </Field>
        <div className="ns-button-row">
          <Button type="submit" icon="list">Filter</Button>
          <Button variant="ghost" onClick={() => { setTopicInput(""); setTopic(""); }}>Clear</Button>
        </div>
      </form>
      {letters.loading
        ? <Loading label="Loading dead letters…" />
        : letters.error && !letters.data
        ? <ErrorState error={letters.error} what="the dead letters" onRetry={letters.reload} />
        : rows.length === 0
        ? <EmptyState id="dead-letters-empty" title="No dead letters">Every delivery got through or is still being retried.</EmptyState>
        : (
          <Table label="Dead letters">
            <thead>
              <tr>
                <th scope="col">Outbox row</th>
                <th scope="col">Topic</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last error</th>
                <th scope="col">Gave up</th>
                <th scope="col">Payload</th>
                {canRetry ? <th scope="col"><span className="ns-visually-hidden">Actions</span></th> : null}
              </tr>
            </thead>
            <tbody>
              {rows.map((letter) => (
                <tr key={letter.id}>
                  <th scope="row" className="ns-mono">#{letter.id}</th>
                  <td className="ns-mono">{letter.target === letter.topic ? letter.topic : `${letter.topic} → ${letter.target}`}</td>
                  <td>{letter.attempts}</td>
                  <td>{letter.last_error ?? <span className="ns-muted">none recorded</span>}</td>
                  <td><time dateTime={letter.dead_at}>{dateTime(letter.dead_at)}</time></td>
                  <td>
                    <details>
                      <summary>Show</summary>
                      <pre className="ns-pre">{JSON.stringify(letter.payload, null, 2)}</pre>
                    </details>
                  </td>
                  {canRetry
                    ? (
                      <td>
                        <Button variant="secondary" icon="restart" onClick={() => setConfirming(letter)}>
                          Retry #{letter.id}
                        </Button>
                      </td>
                    )
                    : null}
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      <ConfirmDialog
        open={confirming !== null}
        title={`Retry outbox row #${confirming?.id ?? ""}?`}
        confirmLabel="Retry"
        onCancel={() => setConfirming(null)}
        onConfirm={async () => {
          if (confirming === null) return;
          try {
            const answer = await api.retryDeadLetter(confirming.id);
            toast.show({
              message: answer.retried
                ? `Outbox row #${answer.outbox_id} is due again with fresh attempts.`
                : `Outbox row #${answer.outbox_id} was no longer a dead letter.`,
            });
            setConfirming(null);
            letters.reload();
          } catch (error) {
            toast.show({ tone: "danger", message: describeError(error) });
          }
        }}
      >
        It is delivered again to <code>{confirming?.target}</code> with fresh attempts. The function receiving it must be
        working again, or it will end here once more.
      </ConfirmDialog>
    </>
  );
}

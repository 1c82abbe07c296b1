"use client";
/**
 * The test chat: talk to the draft as a contact would, in the browser. Each
 * message goes through the same routing Wasm the `route-message` function
 * runs (src/lib/routing.ts), against the draft in the editor, with no server
 * round trip and nothing stored. The bot's messages are drawn by kind, as
 * in the inbox (src/components/MessageContent.tsx); its buttons and list
 * rows answer with their id, as a tap would.
 */
import { useEffect, useMemo, useRef, useState } from "react";
import { Button } from "@/components/ui/Button";
import { Card } from "@/components/ui/Card";
import { Field } from "@/components/ui/Field";
import { Icon } from "@/components/ui/Icon";
import { Input } from "@/components/ui/Input";
import { Notice } from "@/components/ui/Notice";
import { MessageContentView } from "@/components/MessageContent";
import type { Json } from "@/lib/definition";
import { contentFromRouting } from "@/lib/message-content";
import { type Action, type ConversationState, getRouting, type OutboundMessage, type Routing } from "@/lib/routing";

type Entry =
  | { id: number; kind: "contact"; text: string }
  | { id: number; kind: "bot"; message: OutboundMessage }
  | { id: number; kind: "event"; text: string }
  | { id: number; kind: "error"; text: string };

/** An entry before it gets its id. */
type NewEntry = Entry extends infer Item ? (Item extends Entry ? Omit<Item, "id"> : never) : never;

let nextKey = 1;

/** What an action other than a message means, in a sentence for the transcript. */
export function describeAction(action: Action): string | null {
  switch (action.type) {
    case "send_message":
      return null;
    case "handoff":
      return `Handed off to a person (${action.reason}). The bot stays silent until released.`;
    case "opt_out":
      return "The contact opted out.";
    case "opt_in":
      return "The contact opted back in.";
    case "tag":
      return `Tagged “${action.tag}”.`;
    case "untag":
      return `Untagged “${action.tag}”.`;
    case "set_contact_attribute":
      return `Contact attribute ${action.name} = “${action.value}”.`;
    case "notify":
      return `Team notified: ${action.text}`;
  }
}

export interface TestChatProps {
  definition: Json;
  /** The draft's JSON text: a change gives the routing core a new cache key. */
  definitionText: string;
  /** The draft has errors, so the core would refuse it. */
  blocked: boolean;
}

export function TestChat({ definition, definitionText, blocked }: TestChatProps) {
  const [routing, setRouting] = useState<Routing | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [entries, setEntries] = useState<Entry[]>([]);
  const [state, setState] = useState<ConversationState | null>(null);
  const [text, setText] = useState("");
  const [contactName, setContactName] = useState("Test contact");
  const entryId = useRef(1);
  const seed = useRef(1);
  const log = useRef<HTMLDivElement>(null);
  const definitionKey = useMemo(() => `draft:${nextKey++}:${definitionText.length}`, [definitionText]);

  useEffect(() => {
    getRouting().then(setRouting, (error: unknown) => setLoadError(error instanceof Error ? error.message : String(error)));
  }, []);

  useEffect(() => {
    const element = log.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [entries]);

  function add(...items: NewEntry[]) {
    setEntries((list) => [...list, ...items.map((item) => ({ ...item, id: entryId.current++ }) as Entry)]);
  }

  function send(messageText: string, replyId: string | null = null) {
    if (routing === null || blocked || messageText.trim() === "") return;
    add({ kind: "contact", text: messageText });
    try {
      const output = routing.route({
        definitionKey,
        definition,
        state,
        message: { id: `test-${Date.now()}-${seed.current}`, text: messageText, reply_id: replyId },
        contact: { wa_id: "+15550000000", name: contactName.trim() || null },
        now_ms: Date.now(),
        seed: seed.current++,
      });
      setState(output.state);
      const replies: NewEntry[] = [];
      for (const action of output.actions) {
        if (action.type === "send_message") replies.push({ kind: "bot", message: action.message });
        else {
          const sentence = describeAction(action);
          if (sentence) replies.push({ kind: "event", text: sentence });
        }
      }
      if (replies.length === 0) replies.push({ kind: "event", text: `No reply (${output.outcome}).` });
      add(...replies);
    } catch (error) {
      add({ kind: "error", text: error instanceof Error ? error.message : String(error) });
    }
  }

  return (
    <Card
      title="Test chat"
      description="Runs the draft in your browser with the routing core. Nothing is sent or stored."
      id="test-chat"
      region
      actions={
        <Button
          variant="secondary"
          size="sm"
          icon="restart"
          onClick={() => {
            setEntries([]);
            setState(null);
          }}
        >
          Restart chat
        </Button>
      }
    >
      {loadError ? <Notice tone="danger" title="The routing core did not load">{loadError}</Notice> : null}
      {blocked ? <Notice tone="warning" title="The draft has errors">Fix them to try the draft here.</Notice> : null}
      <div className="ns-chat" ref={log} role="log" aria-label="Test conversation" aria-live="polite" tabIndex={0}>
        {entries.length === 0
          ? <p className="ns-chat__hint">Say something the bot answers, such as a trigger keyword.</p>
          : (
            <ol className="ns-chat__list">
              {entries.map((entry) => <ChatEntry key={entry.id} entry={entry} onReply={send} disabled={blocked} />)}
            </ol>
          )}
      </div>
      <form
        className="ns-chat__composer"
        onSubmit={(event) => {
          event.preventDefault();
          send(text);
          setText("");
        }}
      >
        <Field label="Message as the test contact">
          {(control) => (
            <Input
              {...control}
              value={text}
              disabled={routing === null || blocked}
              onChange={(event) => setText(event.target.value)}
              autoComplete="off"
            />
          )}
        </Field>
        <Button type="submit" icon="send" disabled={routing === null || blocked || text.trim() === ""}>Send</Button>
      </form>
      <details className="ns-chat__details">
        <summary>Contact and conversation state</summary>
        <Field label="Contact name">
          {(control) => <Input {...control} value={contactName} onChange={(event) => setContactName(event.target.value)} />}
        </Field>
        <pre className="ns-pre" aria-label="Conversation state">{JSON.stringify(state, null, 2)}</pre>
      </details>
    </Card>
  );
}

function ChatEntry({ entry, onReply, disabled }: { entry: Entry; onReply: (text: string, replyId: string) => void; disabled: boolean }) {
  if (entry.kind === "contact") {
    return (
      <li className="ns-bubble ns-bubble--out">
        <span className="ns-visually-hidden">You: </span>
        {entry.text}
      </li>
    );
  }
  if (entry.kind === "event" || entry.kind === "error") {
    return (
      <li className={`ns-chat__event${entry.kind === "error" ? " ns-chat__event--error" : ""}`}>
        <Icon name={entry.kind === "error" ? "x" : "info"} size={14} /> {entry.text}
      </li>
    );
  }
  return (
    <li className="ns-bubble ns-bubble--in" data-kind={contentFromRouting(entry.message).kind}>
      <span className="ns-visually-hidden">Bot: </span>
      <MessageContentView content={contentFromRouting(entry.message)} onChoose={onReply} disabled={disabled} />
    </li>
  );
}

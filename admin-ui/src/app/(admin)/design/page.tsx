"use client";
/**
 * The NeoSketch catalogue: every token (read from the live CSS, so it shows
 * the current theme) and every component in its states. Documented in
 * docs/neo-sketch-design-system.md.
 */
import { useEffect, useState } from "react";
import { QrCode } from "@/components/QrCode";
import { AlertStatusBadge, DeliveryStatus, ModeBadge, SessionBadge, SeverityBadge } from "@/components/StatusBadges";
import { Badge, type Tone } from "@/components/ui/Badge";
import { BarChart } from "@/components/ui/BarChart";
import { Button } from "@/components/ui/Button";
import { Card } from "@/components/ui/Card";
import { Checkbox } from "@/components/ui/Checkbox";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { EmptyState } from "@/components/ui/EmptyState";
import { ErrorState } from "@/components/ui/ErrorState";
import { Field } from "@/components/ui/Field";
import { HeadingUnderline } from "@/components/ui/HeadingUnderline";
import { Icon } from "@/components/ui/Icon";
import { Input } from "@/components/ui/Input";
import { Loading } from "@/components/ui/Loading";
import { Notice } from "@/components/ui/Notice";
import { PageHeader } from "@/components/ui/PageHeader";
import { Select } from "@/components/ui/Select";
import { Stat } from "@/components/ui/Stat";
import { StatusText } from "@/components/ui/StatusText";
import { Table } from "@/components/ui/Table";
import { Tabs } from "@/components/ui/Tabs";
import { Textarea } from "@/components/ui/Textarea";
import { ThemeToggle } from "@/components/ui/ThemeToggle";
import { Timeline } from "@/components/ui/Timeline";
import { useToast } from "@/components/ui/Toast";
import { ApiError } from "@/lib/api";
import { COMPONENT_TOKENS, RAW_TOKENS, SEMANTIC_TOKENS, type Token } from "@/lib/tokens";
import { SESSION_STATUSES } from "@/lib/types";

const TONES: Tone[] = ["neutral", "primary", "success", "warning", "danger", "info", "accent", "highlight"];

export default function DesignPage() {
  const toast = useToast();
  const [tab, setTab] = useState("one");
  const [dialog, setDialog] = useState(false);
  return (
    <>
      <PageHeader
        title="Design system"
        description="NeoSketch: paper and ink, flat fills, thick borders, hard shadows, and a hand-drawn touch only on decoration."
        actions={<ThemeToggle />}
      />
      <div className="ns-stack">
        <TokenTable title="Layer 1: raw palette and scales" id="tokens-raw" tokens={RAW_TOKENS} />
        <TokenTable title="Layer 2: semantic pairs (dark mode swaps these)" id="tokens-semantic" tokens={SEMANTIC_TOKENS} />
        <TokenTable title="Layer 3: component mapping" id="tokens-component" tokens={COMPONENT_TOKENS} />

        <Card title="Type" id="type" region>
          <h1 style={{ margin: 0 }}>Heading 1, display face</h1>
          <HeadingUnderline id="design-type" />
          <h2>Heading 2, display face</h2>
          <h3>Heading 3, body face (the display face is for 20px and more)</h3>
          <p>Body text in the system face. <a href="#type">A link</a>. <code>mono: +15551234567</code></p>
          <p className="ns-muted">Muted secondary text.</p>
        </Card>

        <Card title="Buttons" id="buttons" region>
          <div className="ns-button-row">
            <Button icon="check">Primary</Button>
            <Button variant="secondary" icon="restart">Secondary</Button>
            <Button variant="danger" icon="stop">Danger</Button>
            <Button variant="ghost">Ghost</Button>
            <Button loading>Working</Button>
            <Button disabled>Disabled</Button>
            <Button size="sm" icon="plus">Small</Button>
          </div>
        </Card>

        <Card title="Badges and states" id="badges" region description="Always an icon or a word with the colour.">
          <div className="ns-stack">
            <div className="ns-inline">{TONES.map((tone) => <Badge key={tone} tone={tone} icon="info">{tone}</Badge>)}</div>
            <div className="ns-inline">{SESSION_STATUSES.map((status) => <SessionBadge key={status} status={status} />)}</div>
            <div className="ns-inline">
              {["critical", "warning", "info"].map((severity) => <SeverityBadge key={severity} severity={severity} />)}
              {["open", "acknowledged", "resolved"].map((status) => <AlertStatusBadge key={status} status={status} />)}
              {["bot", "human", "closed"].map((mode) => <ModeBadge key={mode} mode={mode} />)}
            </div>
            <div className="ns-inline">
              {["queued", "sent", "delivered", "read", "failed"].map((status) => <DeliveryStatus key={status} status={status} />)}
            </div>
            <div className="ns-inline">
              <StatusText tone="success" icon="check">Healthy</StatusText>
              <StatusText tone="warning" icon="alert">Degraded</StatusText>
              <StatusText tone="danger" icon="x">Down</StatusText>
              <StatusText tone="info" icon="info">Info</StatusText>
            </div>
          </div>
        </Card>

        <div className="ns-grid">
          <Card title="Card" id="card-default" region description="Ink border, wobbly radius, hard shadow.">
            <Stat value={42} label="a stat" />
          </Card>
          <Card title="Hero card" variant="hero" id="card-hero" region>
            <p>The large wobbly radius, for sign-in and empty pages.</p>
          </Card>
          <Card title="Flat card" variant="flat" id="card-flat" region>
            <p>No shadow, for cards inside cards.</p>
          </Card>
        </div>

        <Card title="Forms" id="forms" region description="Crisp: no hand-drawn strokes on controls.">
          <div className="ns-form-grid">
            <Field label="Text input" hint="A hint under the control.">
              {(control) => <Input {...control} defaultValue="Hello" />}
            </Field>
            <Field label="Invalid input" error="This field points at $.nodes[2].next, which does not exist.">
              {(control) => <Input {...control} defaultValue="nowhere" />}
            </Field>
            <Field label="Select">
              {(control) => (
                <Select {...control} defaultValue="b">
                  <option value="a">Option A</option>
                  <option value="b">Option B</option>
                </Select>
              )}
            </Field>
            <Checkbox label="A checkbox" defaultChecked />
          </div>
          <Field label="Textarea (code)">
            {(control) => <Textarea {...control} code rows={3} defaultValue={'{\n  "format": 1\n}'} />}
          </Field>
        </Card>

        <Card title="Notices, loading, empty and error states" id="states" region>
          <Notice tone="info" title="Info">Something worth knowing.</Notice>
          <Notice tone="success" title="Success">It worked.</Notice>
          <Notice tone="warning" title="Warning">Look at this before going on.</Notice>
          <Notice tone="danger" title="Danger">Something failed.</Notice>
          <Loading label="Loading something…" />
          <EmptyState id="design-empty" title="Nothing here yet" action={<Button size="sm" icon="plus">Create one</Button>}>
            An empty state explains what would be here and how to get it.
          </EmptyState>
          <ErrorState error={new ApiError(503, "internal", "The admin API did not answer.")} what="the example" onRetry={() => undefined} />
        </Card>

        <div className="ns-grid">
          <Card title="Tabs" id="tabs" region>
            <Tabs label="Example tabs" tabs={[{ id: "one", label: "One" }, { id: "two", label: "Two" }]} selected={tab} onSelect={setTab}>
              <p>Panel {tab}. Arrow keys move between tabs.</p>
            </Tabs>
          </Card>
          <Card title="Dialog and toast" id="overlays" region>
            <div className="ns-button-row">
              <Button variant="secondary" onClick={() => setDialog(true)}>Open a dialog</Button>
              <Button variant="secondary" onClick={() => toast.show({ message: "A toast: every action gives feedback." })}>Show a toast</Button>
            </div>
            <ConfirmDialog open={dialog} title="Restart the session?" confirmLabel="Restart" onCancel={() => setDialog(false)} onConfirm={() => setDialog(false)}>
              <p>Dialogs trap focus, close on Escape and return focus to the opener.</p>
            </ConfirmDialog>
          </Card>
        </div>

        <div className="ns-grid">
          <Card title="Timeline" id="timeline-example" region>
            <Timeline
              label="Example events"
              items={[
                { id: 1, icon: "check", tone: "success", title: "Connected", time: "2026-11-26T09:40:00Z", timeLabel: "09:40" },
                { id: 2, icon: "unplug", tone: "danger", title: "Disconnected", time: "2026-11-26T09:12:00Z", timeLabel: "09:12", detail: "stream error · code 515" },
                { id: 3, icon: "qr", tone: "info", title: "QR code shown", time: "2026-11-26T09:00:00Z", timeLabel: "09:00" },
              ]}
            />
          </Card>
          <Card title="QR code" id="qr-example" region>
            <QrCode text="2@example-pairing-ref,key,identity" label="Example QR code" />
          </Card>
        </div>

        <Card title="Chart" id="chart" region description="rough.js bars; inbound hatched, outbound solid; numbers in a table.">
          <BarChart
            id="design-chart"
            title="Example volume"
            data={Array.from({ length: 24 }, (_, hour) => ({
              key: String(hour),
              label: `${String(hour).padStart(2, "0")}:00`,
              inbound: Math.round(8 + 6 * Math.sin(hour / 3)),
              outbound: Math.round(6 + 5 * Math.cos(hour / 4)),
            }))}
          />
        </Card>

        <Card title="Icons" id="icons" region>
          <div className="ns-inline">
            {(["check", "x", "alert", "info", "pause", "play", "stop", "restart", "plug", "unplug", "qr", "clock", "ban", "bell", "bot", "chat", "phone", "hand", "send", "eye", "flag", "escalate"] as const).map((name) => (
              <span key={name} className="ns-inline ns-icon-sample"><Icon name={name} /> <code>{name}</code></span>
            ))}
          </div>
        </Card>
      </div>
    </>
  );
}

function TokenTable({ title, id, tokens }: { title: string; id: string; tokens: Token[] }) {
  const [values, setValues] = useState<Record<string, string>>({});
  useEffect(() => {
    const read = () => {
      const style = getComputedStyle(document.documentElement);
      setValues(Object.fromEntries(tokens.map((token) => [token.name, style.getPropertyValue(token.name).trim()])));
    };
    read();
    const observer = new MutationObserver(read);
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    return () => observer.disconnect();
  }, [tokens]);
  return (
    <Card title={title} id={id} region>
      <Table label={`${title}: tokens`}>
        <thead>
          <tr>
            <th scope="col">Example</th>
            <th scope="col">Token</th>
            <th scope="col">Value</th>
            <th scope="col">Use</th>
          </tr>
        </thead>
        <tbody>
          {tokens.map((token) => (
            <tr key={token.name}>
              <td><Swatch token={token} /></td>
              <th scope="row"><code>{token.name}</code></th>
              <td><code className="ns-token-value">{values[token.name] ?? ""}</code></td>
              <td>{token.use}</td>
            </tr>
          ))}
        </tbody>
      </Table>
    </Card>
  );
}

function Swatch({ token }: { token: Token }) {
  const name = `var(${token.name})`;
  switch (token.kind) {
    case "color":
      return <span className="ns-swatch" style={{ background: name }} />;
    case "shadow":
      return <span className="ns-swatch" style={{ boxShadow: name, background: "var(--ns-surface)" }} />;
    case "radius":
      return <span className="ns-swatch ns-swatch--wide" style={{ borderRadius: name, background: "var(--ns-surface)" }} />;
    case "border":
      return <span className="ns-swatch ns-swatch--wide" style={{ border: name, background: "var(--ns-surface)" }} />;
    case "font":
      return <span style={{ fontFamily: name, fontSize: "1.25rem" }}>Aa</span>;
    case "length":
      return <span className="ns-swatch-bar" style={{ width: `min(${name}, 80px)` }} />;
    default:
      return <span className="ns-muted">—</span>;
  }
}

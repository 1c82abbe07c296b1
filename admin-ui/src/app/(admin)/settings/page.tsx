"use client";
/** Settings: members and their roles, and the alert channels. */
import { useState } from "react";
import { Badge } from "@/components/ui/Badge";
import { Button } from "@/components/ui/Button";
import { Card } from "@/components/ui/Card";
import { Checkbox } from "@/components/ui/Checkbox";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { ErrorState } from "@/components/ui/ErrorState";
import { Field } from "@/components/ui/Field";
import { Input } from "@/components/ui/Input";
import { Loading } from "@/components/ui/Loading";
import { Notice } from "@/components/ui/Notice";
import { PageHeader } from "@/components/ui/PageHeader";
import { Select } from "@/components/ui/Select";
import { Table } from "@/components/ui/Table";
import { useToast } from "@/components/ui/Toast";
import { describeError } from "@/lib/api";
import { useApi, useAuth } from "@/lib/auth";
import { relativeTime } from "@/lib/format";
import { type AlertChannel, type ChannelKind, type Member, type Role, roleAtLeast, ROLES, type Severity } from "@/lib/types";
import { usePoll } from "@/lib/use-poll";

export default function SettingsPage() {
  return (
    <>
      <PageHeader title="Settings" description="Who may do what, and where alerts go." />
      <div className="ns-stack">
        <Members />
        <Channels />
      </div>
    </>
  );
}

function Members() {
  const api = useApi();
  const { me } = useAuth();
  const toast = useToast();
  const members = usePoll((signal) => api.listMembers(signal), [api], 30000);
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [busy, setBusy] = useState(false);
  const [removing, setRemoving] = useState<Member | null>(null);
  const isAdmin = roleAtLeast(me?.role, "admin");
  const assignable = ROLES.filter((candidate) => me?.role === "owner" || candidate !== "owner");

  return (
    <Card title="Members and roles" id="members" region description="viewer reads; operator restarts sessions, takes over conversations and handles alerts; admin edits bots, numbers and channels; owner also manages owners.">
      {members.loading
        ? <Loading label="Loading members…" />
        : members.error && !members.data
        ? <ErrorState error={members.error} what="the members" onRetry={members.reload} />
        : (
          <Table label="Members">
            <thead>
              <tr>
                <th scope="col">Member</th>
                <th scope="col">Role</th>
                <th scope="col">Since</th>
                {isAdmin ? <th scope="col">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {members.data?.data.map((member) => (
                <tr key={member.user_id}>
                  <th scope="row">
                    {member.email ?? <span className="ns-mono">{member.user_id}</span>}
                    {member.user_id === me?.user_id ? <> <Badge tone="primary">you</Badge></> : null}
                  </th>
                  <td>
                    {isAdmin && member.user_id !== me?.user_id && (member.role !== "owner" || me?.role === "owner")
                      ? (
                        <Field label={<span className="ns-visually-hidden">Role of {member.email ?? member.user_id}</span>}>
                          {(control) => (
                            <Select
                              {...control}
                              value={member.role}
                              onChange={async (event) => {
                                try {
                                  await api.updateMember(member.user_id, event.target.value as Role);
                                  toast.show({ message: `${member.email ?? "The member"} is now ${event.target.value}.` });
                                  await members.reload();
                                } catch (error) {
                                  toast.show({ tone: "danger", message: describeError(error) });
                                }
                              }}
                            >
                              {assignable.map((candidate) => <option key={candidate} value={candidate}>{candidate}</option>)}
                            </Select>
                          )}
                        </Field>
                      )
                      : <Badge>{member.role}</Badge>}
                  </td>
                  <td>{relativeTime(member.created_at)}</td>
                  {isAdmin
                    ? (
                      <td>
                        {member.user_id !== me?.user_id
                          ? <Button variant="ghost" size="sm" icon="trash" onClick={() => setRemoving(member)}>Remove</Button>
                          : null}
                      </td>
                    )
                    : null}
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      {isAdmin
        ? (
          <form
            className="ns-form-grid"
            style={{ marginTop: "var(--ns-space-4)" }}
            onSubmit={async (event) => {
              event.preventDefault();
              setBusy(true);
              try {
                await api.addMember({ email: email.trim(), role });
                toast.show({ message: `${email.trim()} is now a ${role}.` });
                setEmail("");
                await members.reload();
              } catch (error) {
                toast.show({ tone: "danger", message: describeError(error) });
              } finally {
                setBusy(false);
              }
            }}
          >
            <Field label="Add a member by email" hint="They must have signed up already.">
              {(control) => <Input {...control} type="email" required value={email} onChange={(event) => setEmail(event.target.value)} />}
            </Field>
            <Field label="Role">
              {(control) => (
                <Select {...control} value={role} onChange={(event) => setRole(event.target.value as Role)}>
                  {assignable.map((candidate) => <option key={candidate} value={candidate}>{candidate}</option>)}
                </Select>
              )}
            </Field>
            <div className="ns-button-row">
              <Button type="submit" icon="plus" loading={busy}>Add member</Button>
            </div>
          </form>
        )
        : null}
      <ConfirmDialog
        open={removing !== null}
        title={`Remove ${removing?.email ?? "this member"}?`}
        confirmLabel="Remove"
        tone="danger"
        onCancel={() => setRemoving(null)}
        onConfirm={async () => {
          if (removing === null) return;
          try {
            await api.removeMember(removing.user_id);
            toast.show({ message: `${removing.email ?? "The member"} was removed.` });
            await members.reload();
          } catch (error) {
            toast.show({ tone: "danger", message: describeError(error) });
          } finally {
            setRemoving(null);
          }
        }}
      >
        <p>They can still sign in but see nothing until given a role again.</p>
      </ConfirmDialog>
    </Card>
  );
}

function Channels() {
  const api = useApi();
  const { me } = useAuth();
  const toast = useToast();
  const isAdmin = roleAtLeast(me?.role, "admin");
  const channels = usePoll((signal) => (isAdmin ? api.listChannels(signal) : Promise.resolve(null)), [api, isAdmin], 30000);
  const [name, setName] = useState("");
  const [kind, setKind] = useState<ChannelKind>("webhook");
  const [target, setTarget] = useState("");
  const [minSeverity, setMinSeverity] = useState<Severity>("warning");
  const [busy, setBusy] = useState(false);
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);
  const [deleting, setDeleting] = useState<AlertChannel | null>(null);

  if (!isAdmin) {
    return (
      <Card title="Alert channels" id="channels" region>
        <Notice tone="info">Channel targets are credentials, so only admins see them.</Notice>
      </Card>
    );
  }
  return (
    <Card title="Alert channels" id="channels" region description="Where alert notifications go: signed webhooks, Slack, or a WhatsApp admin number.">
      {secret
        ? (
          <Notice tone="warning" title={`Signing secret of ${secret.name}: copy it now`} action={<Button size="sm" variant="secondary" onClick={() => setSecret(null)}>Done</Button>}>
            <p>It is shown once. Receivers verify <code>x-wabot-signature</code> with it (docs/api.md).</p>
            <p><code className="ns-secret">{secret.secret}</code></p>
          </Notice>
        )
        : null}
      {channels.loading
        ? <Loading label="Loading channels…" />
        : channels.error && !channels.data
        ? <ErrorState error={channels.error} what="the channels" onRetry={channels.reload} />
        : channels.data?.data.length === 0
        ? <p className="ns-muted">No channels: alerts are only shown here.</p>
        : (
          <Table label="Alert channels">
            <thead>
              <tr>
                <th scope="col">Channel</th>
                <th scope="col">Kind</th>
                <th scope="col">From severity</th>
                <th scope="col">Enabled</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {channels.data?.data.map((channel) => (
                <tr key={channel.id}>
                  <th scope="row">
                    {channel.name}
                    <div className="ns-mono ns-muted">{channel.target}</div>
                  </th>
                  <td>{channel.kind}{channel.has_signing_secret ? " (signed)" : ""}</td>
                  <td>{channel.min_severity}</td>
                  <td>
                    <Checkbox
                      label={<span className="ns-visually-hidden">Enabled: {channel.name}</span>}
                      checked={channel.enabled}
                      onChange={async (event) => {
                        try {
                          await api.updateChannel(channel.id, { enabled: event.target.checked });
                          toast.show({ message: `${channel.name} ${event.target.checked ? "enabled" : "disabled"}.` });
                          await channels.reload();
                        } catch (error) {
                          toast.show({ tone: "danger", message: describeError(error) });
                        }
                      }}
                    />
                  </td>
                  <td>
                    <Button variant="ghost" size="sm" icon="trash" onClick={() => setDeleting(channel)}>Remove</Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      <form
        className="ns-form-grid"
        style={{ marginTop: "var(--ns-space-4)" }}
        onSubmit={async (event) => {
          event.preventDefault();
          setBusy(true);
          try {
            const created = await api.createChannel({ name: name.trim(), kind, target: target.trim(), min_severity: minSeverity });
            toast.show({ message: `Added the channel ${created.name}.` });
            if (created.signing_secret) setSecret({ name: created.name, secret: created.signing_secret });
            setName("");
            setTarget("");
            await channels.reload();
          } catch (error) {
            toast.show({ tone: "danger", message: describeError(error) });
          } finally {
            setBusy(false);
          }
        }}
      >
        <Field label="Name">
          {(control) => <Input {...control} required value={name} onChange={(event) => setName(event.target.value)} />}
        </Field>
        <Field label="Kind">
          {(control) => (
            <Select {...control} value={kind} onChange={(event) => setKind(event.target.value as ChannelKind)}>
              <option value="webhook">Signed webhook</option>
              <option value="slack">Slack incoming webhook</option>
              <option value="whatsapp">WhatsApp admin number</option>
            </Select>
          )}
        </Field>
        <Field label={kind === "whatsapp" ? "Phone number (E.164)" : "URL"}>
          {(control) => <Input {...control} required value={target} onChange={(event) => setTarget(event.target.value)} />}
        </Field>
        <Field label="From severity">
          {(control) => (
            <Select {...control} value={minSeverity} onChange={(event) => setMinSeverity(event.target.value as Severity)}>
              <option value="info">info</option>
              <option value="warning">warning</option>
              <option value="critical">critical</option>
            </Select>
          )}
        </Field>
        <div className="ns-button-row">
          <Button type="submit" icon="plus" loading={busy}>Add channel</Button>
        </div>
      </form>
      <ConfirmDialog
        open={deleting !== null}
        title={`Remove the channel ${deleting?.name ?? ""}?`}
        confirmLabel="Remove"
        tone="danger"
        onCancel={() => setDeleting(null)}
        onConfirm={async () => {
          if (deleting === null) return;
          try {
            await api.deleteChannel(deleting.id);
            toast.show({ message: `Removed ${deleting.name}.` });
            await channels.reload();
          } catch (error) {
            toast.show({ tone: "danger", message: describeError(error) });
          } finally {
            setDeleting(null);
          }
        }}
      >
        <p>Alerts stop going there at once; its signing secret is deleted.</p>
      </ConfirmDialog>
    </Card>
  );
}

"use client";
/**
 * One bot: the definition editor (form and JSON) with the test chat beside
 * it, saving drafts and publishing; the versions with publish, roll back
 * and canary.
 */
import Link from "next/link";
import { useParams } from "next/navigation";
import { useCallback, useEffect, useRef, useState } from "react";
import { Badge } from "@/components/ui/Badge";
import { Button } from "@/components/ui/Button";
import { Card } from "@/components/ui/Card";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { ErrorState } from "@/components/ui/ErrorState";
import { Loading } from "@/components/ui/Loading";
import { Notice } from "@/components/ui/Notice";
import { PageHeader } from "@/components/ui/PageHeader";
import { useToast } from "@/components/ui/Toast";
import { ApiError, describeError } from "@/lib/api";
import { useApi, useAuth } from "@/lib/auth";
import { type Json, starterDefinition, toJsonText } from "@/lib/definition";
import { JsonSyntaxError, parseWithPositions } from "@/lib/json-path";
import { getRouting, type Routing } from "@/lib/routing";
import { type BotVersion, type DefinitionProblem, roleAtLeast } from "@/lib/types";
import { usePoll } from "@/lib/use-poll";
import { DefinitionEditor, type EditorView } from "./DefinitionEditor";
import { TestChat } from "./TestChat";
import { VersionsCard } from "./VersionsCard";

interface Draft {
  text: string;
  definition: Json;
  syntaxError: { message: string; offset: number } | null;
  /** The stored version the draft started from, if any. */
  baseVersion: BotVersion | null;
  dirty: boolean;
}

function draftFrom(definition: unknown, baseVersion: BotVersion | null): Draft {
  return { text: toJsonText(definition), definition: definition as Json, syntaxError: null, baseVersion, dirty: false };
}

export default function BotPage() {
  const { botId } = useParams<{ botId: string }>();
  const api = useApi();
  const { me } = useAuth();
  const toast = useToast();
  const canEdit = roleAtLeast(me?.role, "admin");
  const bot = usePoll((signal) => api.getBot(botId, signal), [api, botId], 15000);
  const versions = usePoll((signal) => api.listVersions(botId, {}, signal), [api, botId], 15000);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [view, setView] = useState<EditorView>("form");
  const [routing, setRouting] = useState<Routing | null>(null);
  const [report, setReport] = useState<{ errors: DefinitionProblem[]; warnings: DefinitionProblem[] }>({ errors: [], warnings: [] });
  const [serverProblems, setServerProblems] = useState<DefinitionProblem[] | null>(null);
  const [saving, setSaving] = useState<"draft" | "publish" | null>(null);
  const [confirmPublish, setConfirmPublish] = useState(false);
  const [pendingLoad, setPendingLoad] = useState<BotVersion | null>(null);
  const [confirmArchive, setConfirmArchive] = useState(false);
  const initialised = useRef(false);

  useEffect(() => {
    getRouting().then(setRouting, () => setRouting(null));
  }, []);

  // The editor starts from the newest version, or a starter for a new bot.
  useEffect(() => {
    if (initialised.current || !bot.data || !versions.data) return;
    initialised.current = true;
    const newest = versions.data.data[0];
    if (newest === undefined) {
      setDraft({ ...draftFrom(starterDefinition(bot.data.name), null), dirty: true });
      return;
    }
    api.getVersion(botId, newest.id).then(
      (version) => setDraft(draftFrom(version.definition, version)),
      (error: unknown) => toast.show({ tone: "danger", message: `Could not load version ${newest.version}: ${describeError(error)}` }),
    );
  }, [api, bot.data, botId, toast, versions.data]);

  // Validation by the routing core in the browser, on every change.
  useEffect(() => {
    if (routing === null || draft === null || draft.syntaxError !== null) return;
    const timer = window.setTimeout(() => {
      try {
        const next = routing.validateDefinition(draft.definition);
        setReport({ errors: next.errors, warnings: next.warnings });
      } catch (error) {
        setReport({ errors: [{ path: "$", code: "invalid_value", message: String(error) }], warnings: [] });
      }
    }, 120);
    return () => window.clearTimeout(timer);
  }, [routing, draft]);

  const setText = useCallback((text: string) => {
    setServerProblems(null);
    setDraft((current) => {
      if (current === null) return current;
      try {
        const { value } = parseWithPositions(text);
        return { ...current, text, definition: value as Json, syntaxError: null, dirty: true };
      } catch (error) {
        const syntax = error instanceof JsonSyntaxError ? { message: error.message, offset: error.offset } : { message: String(error), offset: 0 };
        return { ...current, text, syntaxError: syntax, dirty: true };
      }
    });
  }, []);

  const setDefinition = useCallback((definition: Json) => {
    setServerProblems(null);
    setDraft((current) => (current === null ? current : { ...current, definition, text: toJsonText(definition), syntaxError: null, dirty: true }));
  }, []);

  async function save(publish: boolean) {
    if (draft === null) return;
    setSaving(publish ? "publish" : "draft");
    try {
      let saved: BotVersion;
      if (!draft.dirty && draft.baseVersion !== null) {
        saved = publish ? await api.publishVersion(botId, draft.baseVersion.id) : draft.baseVersion;
      } else {
        saved = await api.createVersion(botId, draft.definition, publish);
      }
      setDraft((current) => (current === null ? current : { ...current, baseVersion: saved, dirty: false }));
      toast.show({ message: publish ? `Published version ${saved.version}.` : `Saved as draft version ${saved.version}.` });
      await Promise.all([versions.reload(), bot.reload()]);
    } catch (error) {
      if (error instanceof ApiError && error.code === "invalid_definition" && Array.isArray(error.details?.errors)) {
        setServerProblems(error.details.errors as DefinitionProblem[]);
      }
      toast.show({ tone: "danger", message: describeError(error) });
    } finally {
      setSaving(null);
      setConfirmPublish(false);
    }
  }

  async function loadVersion(version: BotVersion) {
    try {
      const full = await api.getVersion(botId, version.id);
      setDraft(draftFrom(full.definition, full));
      setServerProblems(null);
      toast.show({ tone: "info", message: `Version ${full.version} is in the editor.` });
    } catch (error) {
      toast.show({ tone: "danger", message: describeError(error) });
    }
  }

  if (bot.loading) return <Loading label="Loading the bot…" />;
  if (!bot.data) return <ErrorState error={bot.error} what="the bot" onRetry={bot.reload} />;
  const errors = serverProblems ?? report.errors;
  const blocked = draft === null || draft.syntaxError !== null || errors.length > 0;
  const base = draft?.baseVersion;

  return (
    <>
      <p><Link href="/bots">← All bots</Link></p>
      <PageHeader
        title={bot.data.name}
        meta={bot.data.published_version
          ? <Badge tone="success" icon="check">Published v{bot.data.published_version.version}</Badge>
          : <Badge icon="clock">Not published</Badge>}
        description={bot.data.description ||
          (bot.data.number_count === 1 ? "1 number serves this bot." : `${bot.data.number_count} numbers serve this bot.`)}
        actions={canEdit
          ? bot.data.archived_at
            ? (
              <Button
                variant="secondary"
                icon="restart"
                onClick={async () => {
                  try {
                    await api.unarchiveBot(botId);
                    toast.show({ message: `${bot.data?.name} is back.` });
                    await bot.reload();
                  } catch (error) {
                    toast.show({ tone: "danger", message: describeError(error) });
                  }
                }}
              >
                Unarchive
              </Button>
            )
            : <Button variant="ghost" icon="stop" onClick={() => setConfirmArchive(true)}>Archive</Button>
          : null}
      />
      {bot.data.archived_at ? <Notice tone="info" title="Archived">This bot is archived: it serves no number and is hidden from the list.</Notice> : null}
      <div className="ns-split">
        <Card
          title="Definition"
          id="editor"
          region
          description={draft === null
            ? "Loading…"
            : base
            ? `From version ${base.version} (${base.status})${draft.dirty ? ", with unsaved changes" : ""}`
            : "A new draft, not saved yet"}
          actions={canEdit
            ? (
              <>
                <Button
                  variant="secondary"
                  icon="check"
                  loading={saving === "draft"}
                  disabled={blocked || saving !== null || (draft !== null && !draft.dirty)}
                  onClick={() => void save(false)}
                >
                  Save draft
                </Button>
                <Button
                  icon="send"
                  loading={saving === "publish"}
                  disabled={blocked || saving !== null || (draft !== null && !draft.dirty && base?.status === "published")}
                  onClick={() => setConfirmPublish(true)}
                >
                  Publish
                </Button>
              </>
            )
            : null}
        >
          {!canEdit ? <Notice tone="info">You can read and try this bot; admins edit and publish it.</Notice> : null}
          {serverProblems ? <Notice tone="danger" title="The admin API refused the definition">Its errors are listed below.</Notice> : null}
          {draft === null
            ? <Loading label="Loading the definition…" />
            : (
              <DefinitionEditor
                view={view}
                onViewChange={setView}
                text={draft.text}
                onTextChange={setText}
                definition={draft.definition}
                onDefinitionChange={setDefinition}
                syntaxError={draft.syntaxError}
                errors={errors}
                warnings={report.warnings}
                checking={routing === null}
                disabled={!canEdit}
                uploadMedia={(file) => api.uploadMedia(file, file.name)}
              />
            )}
        </Card>
        <div className="ns-sticky">
          {draft !== null ? <TestChat definition={draft.definition} definitionText={draft.text} blocked={blocked} /> : null}
        </div>
      </div>
      <VersionsCard
        bot={bot.data}
        versions={versions}
        canEdit={canEdit}
        onOpen={(version) => (draft?.dirty ? setPendingLoad(version) : void loadVersion(version))}
        onChanged={async () => {
          await Promise.all([versions.reload(), bot.reload()]);
        }}
      />
      <ConfirmDialog
        open={confirmPublish}
        title={`Publish ${bot.data.name}?`}
        confirmLabel="Publish"
        onCancel={() => setConfirmPublish(false)}
        onConfirm={() => save(true)}
      >
        <p>
          New conversations get this version at once
          {bot.data.published_version ? `; version ${bot.data.published_version.version} is archived` : ""}. Running
          conversations finish on the version they started with.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={confirmArchive}
        title={`Archive ${bot.data.name}?`}
        confirmLabel="Archive"
        tone="danger"
        onCancel={() => setConfirmArchive(false)}
        onConfirm={async () => {
          try {
            await api.archiveBot(botId);
            toast.show({ message: `${bot.data?.name} is archived.` });
            await bot.reload();
          } catch (error) {
            toast.show({ tone: "danger", message: describeError(error) });
          } finally {
            setConfirmArchive(false);
          }
        }}
      >
        <p>It is hidden from the bot list and its canary stops. Numbers must be moved to another bot first.</p>
      </ConfirmDialog>
      <ConfirmDialog
        open={pendingLoad !== null}
        title="Discard your unsaved changes?"
        confirmLabel={pendingLoad ? `Open version ${pendingLoad.version}` : "Open"}
        tone="danger"
        onCancel={() => setPendingLoad(null)}
        onConfirm={async () => {
          if (pendingLoad) await loadVersion(pendingLoad);
          setPendingLoad(null);
        }}
      >
        <p>The editor has changes that are not saved as a version.</p>
      </ConfirmDialog>
    </>
  );
}

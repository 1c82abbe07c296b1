"use client";
/**
 * The bot definition editor: a structured form and the raw JSON, two views
 * of one draft, with an error summary whose entries lead to the offending
 * field (the control in the form, the selected text in the JSON) by the JSON
 * path the routing core reports.
 */
import { useMemo, useRef } from "react";
import { Button } from "@/components/ui/Button";
import { Icon } from "@/components/ui/Icon";
import { Notice } from "@/components/ui/Notice";
import { Tabs } from "@/components/ui/Tabs";
import { Textarea } from "@/components/ui/Textarea";
import type { Json } from "@/lib/definition";
import { lineAndColumn, locatePath } from "@/lib/json-path";
import type { DefinitionProblem, MediaUpload } from "@/lib/types";
import { controlForPath, structuredControls } from "./fields";
import { StructuredEditor } from "./StructuredEditor";

export type EditorView = "form" | "json";

export interface DefinitionEditorProps {
  view: EditorView;
  onViewChange: (view: EditorView) => void;
  text: string;
  onTextChange: (text: string) => void;
  /** The last definition that parsed. */
  definition: Json;
  onDefinitionChange: (definition: Json) => void;
  /** Why the JSON text does not parse, with where. */
  syntaxError: { message: string; offset: number } | null;
  errors: DefinitionProblem[];
  warnings: DefinitionProblem[];
  /** True while the routing module loads. */
  checking: boolean;
  disabled?: boolean;
  /** Uploads a file for a media node (`POST /media`). */
  uploadMedia?: (file: File) => Promise<MediaUpload>;
}

export function DefinitionEditor(props: DefinitionEditorProps) {
  const { view, onViewChange, text, onTextChange, definition, onDefinitionChange, syntaxError, errors, warnings, checking } =
    props;
  const textarea = useRef<HTMLTextAreaElement>(null);
  const controls = useMemo(() => structuredControls(definition), [definition]);
  const byControl = (problems: DefinitionProblem[]) => {
    const map = new Map<string, DefinitionProblem[]>();
    for (const problem of problems) {
      const id = controlForPath(problem.path, controls);
      map.set(id, [...(map.get(id) ?? []), problem]);
    }
    return map;
  };
  const errorsByControl = useMemo(() => byControl(errors), [errors, controls]); // eslint-disable-line react-hooks/exhaustive-deps
  const warningsByControl = useMemo(() => byControl(warnings), [warnings, controls]); // eslint-disable-line react-hooks/exhaustive-deps

  function selectInJson(start: number, end: number) {
    const element = textarea.current;
    if (element === null) return;
    element.focus();
    element.setSelectionRange(start, end);
    const { line } = lineAndColumn(text, start);
    const lineHeight = parseFloat(getComputedStyle(element).lineHeight) || 18;
    element.scrollTop = Math.max(0, (line - 3) * lineHeight);
  }

  function goTo(problem: DefinitionProblem) {
    if (view === "json") {
      const range = locatePath(text, problem.path);
      if (range !== null) selectInJson(range.start, range.end);
      return;
    }
    const id = controlForPath(problem.path, controls);
    const element = document.getElementById(id);
    if (element === null) return;
    for (let details = element.closest("details"); details !== null; details = details.parentElement?.closest("details") ?? null) {
      details.open = true;
    }
    element.scrollIntoView({ block: "center" });
    element.focus({ preventScroll: true });
  }

  return (
    <div className="ns-editor">
      <ProblemSummary
        syntaxError={syntaxError}
        text={text}
        errors={errors}
        warnings={warnings}
        checking={checking}
        onGoTo={goTo}
        onGoToSyntax={(offset) => {
          onViewChange("json");
          window.setTimeout(() => selectInJson(offset, Math.min(text.length, offset + 1)), 0);
        }}
      />
      <Tabs
        label="Editor view"
        tabs={[{ id: "form", label: "Form" }, { id: "json", label: "JSON" }]}
        selected={view}
        onSelect={(id) => onViewChange(id as EditorView)}
      >
        {view === "form"
          ? (
            syntaxError
              ? <Notice tone="warning" title="Fix the JSON first">The form shows a definition once its JSON parses.</Notice>
              : (
                <StructuredEditor
                  definition={definition}
                  onChange={onDefinitionChange}
                  problems={errorsByControl}
                  warnings={warningsByControl}
                  disabled={props.disabled}
                  uploadMedia={props.uploadMedia}
                />
              )
          )
          : (
            <div className="ns-field">
              <label className="ns-field__label" htmlFor="definition-json">Definition (JSON)</label>
              <Textarea
                id="definition-json"
                ref={textarea}
                code
                rows={28}
                value={text}
                disabled={props.disabled}
                aria-invalid={syntaxError !== null || errors.length > 0 ? true : undefined}
                aria-describedby="definition-problems"
                onChange={(event) => onTextChange(event.target.value)}
              />
              <span className="ns-field__hint">
                Select an error above to jump to its field. Tab leaves the box (indent with spaces).
              </span>
            </div>
          )}
      </Tabs>
    </div>
  );
}

function ProblemSummary({
  syntaxError,
  text,
  errors,
  warnings,
  checking,
  onGoTo,
  onGoToSyntax,
}: {
  syntaxError: { message: string; offset: number } | null;
  text: string;
  errors: DefinitionProblem[];
  warnings: DefinitionProblem[];
  checking: boolean;
  onGoTo: (problem: DefinitionProblem) => void;
  onGoToSyntax: (offset: number) => void;
}) {
  if (syntaxError) {
    const { line, column } = lineAndColumn(text, syntaxError.offset);
    return (
      <div id="definition-problems">
        <Notice tone="danger" title="The JSON does not parse">
          <p>
            Line {line}, column {column}: {syntaxError.message}.{" "}
            <Button variant="secondary" size="sm" onClick={() => onGoToSyntax(syntaxError.offset)}>Show it</Button>
          </p>
        </Notice>
      </div>
    );
  }
  if (checking) {
    return <div id="definition-problems" className="ns-muted" role="status">Loading the routing core to check the draft…</div>;
  }
  return (
    <div id="definition-problems" aria-live="polite">
      {errors.length === 0
        ? (
          <Notice tone="success" title="No errors">
            <p>The routing core accepts this draft{warnings.length > 0 ? `, with ${warnings.length} warning(s)` : ""}.</p>
          </Notice>
        )
        : (
          <Notice tone="danger" title={`${errors.length} error${errors.length === 1 ? "" : "s"} to fix before publishing`}>
            <ProblemItems problems={errors} onGoTo={onGoTo} />
          </Notice>
        )}
      {warnings.length > 0
        ? (
          <details className="ns-warnings">
            <summary>
              <Icon name="alert" /> {warnings.length} warning{warnings.length === 1 ? "" : "s"}
            </summary>
            <ProblemItems problems={warnings} onGoTo={onGoTo} />
          </details>
        )
        : null}
    </div>
  );
}

function ProblemItems({ problems, onGoTo }: { problems: DefinitionProblem[]; onGoTo: (problem: DefinitionProblem) => void }) {
  return (
    <ul className="ns-problems">
      {problems.map((problem, index) => (
        <li key={`${problem.path}:${problem.code}:${index}`} className="ns-problem">
          <Button variant="secondary" size="sm" onClick={() => onGoTo(problem)} aria-label={`Go to ${problem.path}: ${problem.message}`}>
            <code>{problem.path}</code>
          </Button>
          <span>{problem.message}</span>
          <span className="ns-muted">({problem.code})</span>
        </li>
      ))}
    </ul>
  );
}

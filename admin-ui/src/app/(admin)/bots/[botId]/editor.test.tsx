/**
 * The bot editor: validation errors point at the offending field, and the
 * test chat runs the draft through the real routing Wasm.
 */
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { starterDefinition } from "@/lib/definition";
import { loadRouting, routingFrom } from "@/lib/routing";
import type { Json, JsonObject } from "@/lib/definition";
import { StructuredEditor } from "./StructuredEditor";
import { describeAction, TestChat } from "./TestChat";
import { DefinitionEditor } from "./DefinitionEditor";
import { controlForPath, structuredControls } from "./fields";

beforeAll(async () => {
  await loadRouting(readFileSync(join(__dirname, "..", "..", "..", "..", "generated", "core", "routing", "core_bg.wasm")));
});

describe("StructuredEditor", () => {
  it("shows a problem under the control its path names", () => {
    const definition = starterDefinition("Bot");
    const problem = { path: "$.nodes[0].next", code: "unknown_node", message: "no node nowhere" };
    const problems = new Map([[controlForPath(problem.path, structuredControls(definition)), [problem]]]);
    render(<StructuredEditor definition={definition} onChange={() => {}} problems={problems} />);
    const control = document.getElementById("def-nodes-0-next")!;
    expect(control.getAttribute("aria-invalid")).toBe("true");
    const message = document.getElementById(control.getAttribute("aria-describedby")!.split(" ").pop()!)!;
    expect(message.textContent).toContain("no node nowhere (unknown_node)");
  });

  it("edits the definition", () => {
    let changed: unknown = null;
    render(<StructuredEditor definition={starterDefinition("Bot")} onChange={(next) => (changed = next)} problems={new Map()} />);
    fireEvent.change(screen.getByLabelText("Bot name"), { target: { value: "Renamed" } });
    expect((changed as { name: string }).name).toBe("Renamed");
  });
});

describe("TestChat", () => {
  it("answers as the draft would, in the browser", async () => {
    const definition = starterDefinition("Bot");
    render(<TestChat definition={definition} definitionText={JSON.stringify(definition)} blocked={false} />);
    const input = await screen.findByLabelText("Message as the test contact");
    await waitFor(() => expect((input as HTMLInputElement).disabled).toBe(false));
    fireEvent.change(input, { target: { value: "hi" } });
    fireEvent.submit(input.closest("form")!);
    const log = screen.getByRole("log", { name: "Test conversation" });
    await within(log).findByText("Hi Test contact! Reply 1 for our opening hours.");
    fireEvent.change(input, { target: { value: "2" } });
    fireEvent.submit(input.closest("form")!);
    await within(log).findByText("A person will reply soon.");
    await within(log).findByText(/Handed off to a person \(asked for a person\)/);
  });

  it("draws the draft's media, buttons and list, and a tap answers with the button's id", async () => {
    const definition: JsonObject = {
      format: 1,
      name: "Rich chat",
      triggers: [{ match: "keyword", value: "hi", start: "invoice" }, { match: "exact", value: "buy", start: "thanks" }],
      start: "invoice",
      nodes: [
        { id: "invoice", type: "message", media: { url: "https://example.com/invoice.pdf", mime_type: "application/pdf", filename: "invoice.pdf", caption: "Your invoice" }, next: "ask" },
        { id: "ask", type: "message", text: "Buy again?", buttons: [{ id: "buy", title: "Buy" }] },
        { id: "thanks", type: "message", text: "Thanks for buying" },
      ],
    };
    render(<TestChat definition={definition} definitionText={JSON.stringify(definition)} blocked={false} />);
    const input = await screen.findByLabelText("Message as the test contact");
    await waitFor(() => expect((input as HTMLInputElement).disabled).toBe(false));
    fireEvent.change(input, { target: { value: "hi" } });
    fireEvent.submit(input.closest("form")!);
    const log = screen.getByRole("log", { name: "Test conversation" });
    const link = await within(log).findByRole("link", { name: /invoice\.pdf/ });
    expect(link.getAttribute("href")).toBe("https://example.com/invoice.pdf");
    expect(within(log).getByText("Your invoice")).toBeTruthy();
    expect(log.querySelector('[data-kind="document"]')).not.toBeNull();
    fireEvent.click(within(log).getByRole("button", { name: "Buy" }));
    await within(log).findByText("Thanks for buying");
  });

  it("refuses a draft with errors", async () => {
    const definition = starterDefinition("Bot");
    render(<TestChat definition={definition} definitionText="x" blocked />);
    expect(await screen.findByText("The draft has errors")).toBeTruthy();
    expect((screen.getByLabelText("Message as the test contact") as HTMLInputElement).disabled).toBe(true);
  });

  it("describes actions in words", () => {
    expect(describeAction({ type: "tag", tag: "vip" })).toBe("Tagged “vip”.");
    expect(describeAction({ type: "send_message", message: { kind: "text", text: "x" } })).toBeNull();
  });
});

/** A definition with every rich node the editor has controls for, and fields it has none for. */
function richDefinition(): JsonObject {
  return {
    format: 1,
    name: "Rich",
    start: "photo",
    nodes: [
      {
        id: "photo",
        type: "message",
        media: { kind: "image", storage_key: "uploads/abc", mime_type: "image/png", caption: "Your order, {{contact.name}}", filename: "order.png" },
        next: "ask",
      },
      { id: "ask", type: "message", text: "Happy with it?", buttons: [{ id: "yes", title: "Yes" }, { id: "no", title: "No" }], next: "menu" },
      {
        id: "menu",
        type: "message",
        text: "What next?",
        list: {
          button: "Options",
          sections: [
            { title: "Delivery", rows: [{ id: "track", title: "Track it", description: "Where is my parcel?" }] },
            { title: "Billing", rows: [{ id: "invoice", title: "Get the invoice" }] },
          ],
        },
        next: "remind",
      },
      {
        id: "remind",
        type: "template",
        name: "order_update",
        language: "en_US",
        parameters: {
          body: ["{{contact.name}}", "{{vars.order}}"],
          header: [],
          header_media: { kind: "image", url: "https://example.com/box.jpg" },
          quick_replies: ["track"],
        },
        next: "done",
      },
      { id: "done", type: "end" },
    ],
  };
}

describe("StructuredEditor: media, buttons, lists and templates", () => {
  function editor(definition: Json, problems = new Map()) {
    const changes: Json[] = [];
    const view = render(<StructuredEditor definition={definition} onChange={(next) => changes.push(next)} problems={problems} />);
    return { changes, view };
  }

  it("round-trips every field without loss when one is edited", () => {
    const definition = richDefinition();
    const { changes } = editor(definition);
    // Every field has a control (nothing left over as "more fields" JSON but `next`-less extras).
    expect((document.getElementById("def-nodes-0-media-caption") as HTMLTextAreaElement).value).toBe("Your order, {{contact.name}}");
    expect((document.getElementById("def-nodes-0-media-kind") as HTMLSelectElement).value).toBe("image");
    expect(screen.getByText("uploads/abc")).toBeTruthy();
    expect((document.getElementById("def-nodes-1-buttons-1-title") as HTMLInputElement).value).toBe("No");
    expect((document.getElementById("def-nodes-2-list-sections-0-rows-0-description") as HTMLInputElement).value).toBe("Where is my parcel?");
    expect((document.getElementById("def-nodes-3-parameters-body-1") as HTMLInputElement).value).toBe("{{vars.order}}");
    expect((document.getElementById("def-nodes-3-name") as HTMLInputElement).value).toBe("order_update");

    fireEvent.change(document.getElementById("def-nodes-1-buttons-1-title")!, { target: { value: "Not really" } });
    const expected = richDefinition();
    ((expected.nodes as JsonObject[])[1]!.buttons as JsonObject[])[1]!.title = "Not really";
    expect(changes.at(-1)).toEqual(expected);

    fireEvent.change(document.getElementById("def-nodes-3-parameters-body-0")!, { target: { value: "{{vars.name}}" } });
    const expectedTemplate = richDefinition();
    ((expectedTemplate.nodes as JsonObject[])[3]!.parameters as JsonObject).body = ["{{vars.name}}", "{{vars.order}}"];
    expect(changes.at(-1)).toEqual(expectedTemplate);

    // Quick replies have inputs; header_media, without one, is kept in the parameters' JSON box.
    expect((document.getElementById("def-nodes-3-parameters-quick_replies-0") as HTMLInputElement).value).toBe("track");
    expect((document.getElementById("def-nodes-3-parameters--extras") as HTMLTextAreaElement).value).toContain('"header_media"');
    fireEvent.change(document.getElementById("def-nodes-3-parameters-quick_replies-0")!, { target: { value: "track_order" } });
    const expectedReplies = richDefinition();
    ((expectedReplies.nodes as JsonObject[])[3]!.parameters as JsonObject).quick_replies = ["track_order"];
    expect(changes.at(-1)).toEqual(expectedReplies);
  });

  it("counts title characters live and stops at three buttons", () => {
    const definition = richDefinition();
    ((definition.nodes as JsonObject[])[1]!.buttons as JsonObject[]).push({ id: "later", title: "Ask me again tomorrow" });
    editor(definition);
    const hint = document.getElementById("def-nodes-1-buttons-2-title-hint")!;
    expect(hint.textContent).toContain("21/20 characters: 1 too many");
    expect(document.getElementById("def-nodes-1-buttons-0-title-hint")!.textContent).toContain("3/20 characters");
    expect((screen.getByRole("button", { name: "Add button" }) as HTMLButtonElement).disabled).toBe(true);
    expect(document.getElementById("def-nodes-2-list-sections-0-rows-0-title-hint")!.textContent).toContain("8/24 characters");
    expect(document.getElementById("def-nodes-2-list-sections-0-rows-0-description-hint")!.textContent).toContain("19/72 characters");
  });

  it("stops a list at ten rows", () => {
    const definition = richDefinition();
    const list = (definition.nodes as JsonObject[])[2]!.list as JsonObject;
    const rows = (list.sections as JsonObject[])[1]!.rows as JsonObject[];
    for (let index = 0; rows.length < 9; index++) rows.push({ id: `r${index}`, title: `Row ${index}` });
    editor(definition);
    expect(screen.getByText("List (10/10 rows)")).toBeTruthy();
    expect((screen.getByRole("button", { name: "Add row to section 1" }) as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByRole("button", { name: "Add section" }) as HTMLButtonElement).disabled).toBe(true);
  });

  it("switches a text message to buttons, and uploads a media file", async () => {
    const definition: JsonObject = { format: 1, name: "B", start: "a", nodes: [{ id: "a", type: "message", text: "Pick one", next: "b" }, { id: "b", type: "end" }] };
    const changes: Json[] = [];
    const upload = async (file: File) => ({ storage_key: "uploads/u9", mime_type: file.type, size_bytes: file.size, sha256: "00", filename: file.name });
    const view = render(<StructuredEditor definition={definition} onChange={(next) => changes.push(next)} problems={new Map()} uploadMedia={upload} />);
    fireEvent.change(screen.getByLabelText("Message content"), { target: { value: "buttons" } });
    expect((changes.at(-1) as JsonObject).nodes).toEqual([
      { id: "a", type: "message", text: "Pick one", buttons: [{ id: "yes", title: "Yes" }], next: "b" },
      { id: "b", type: "end" },
    ]);
    view.rerender(<StructuredEditor definition={{ ...definition, nodes: [{ id: "a", type: "message", media: { url: "https://x/y.jpg", mime_type: "image/jpeg" } }] }} onChange={(next) => changes.push(next)} problems={new Map()} uploadMedia={upload} />);
    const file = new File([new Uint8Array([1])], "menu.pdf", { type: "application/pdf" });
    fireEvent.change(screen.getByLabelText("Or upload a file"), { target: { files: [file] } });
    await waitFor(() =>
      expect(changes.at(-1)).toMatchObject({ nodes: [{ media: { storage_key: "uploads/u9", mime_type: "application/pdf", filename: "menu.pdf" } }] })
    );
    expect(((changes.at(-1) as JsonObject).nodes as JsonObject[])[0]!.media).not.toHaveProperty("url");
  });

  it("shows the routing core's own errors for a too-long button title and too many rows under their controls", async () => {
    const routing = routingFrom(await loadRouting());
    // Only what the routing core on main knows (no template node, no media kind or storage key yet).
    const definition: JsonObject = {
      format: 1,
      name: "Limits",
      start: "ask",
      nodes: [
        { id: "intro", type: "message", media: { url: "https://example.com/a.jpg", mime_type: "image/jpeg", caption: "Hi" }, next: "ask" },
        { id: "ask", type: "message", text: "Happy?", buttons: [{ id: "a", title: "A title that is far too long" }], next: "menu" },
        {
          id: "menu",
          type: "message",
          text: "Pick",
          list: { button: "Options", sections: [{ rows: Array.from({ length: 11 }, (_, index) => ({ id: `r${index}`, title: `Row ${index}` })) }] },
        },
      ],
    };
    const report = routing.validateDefinition(definition);
    const titleError = report.errors.find((problem) => problem.path === "$.nodes[1].buttons[0].title");
    expect(titleError?.code).toBe("title_too_long");
    render(
      <DefinitionEditor
        view="form"
        onViewChange={() => {}}
        text={JSON.stringify(definition)}
        onTextChange={() => {}}
        definition={definition}
        onDefinitionChange={() => {}}
        syntaxError={null}
        errors={report.errors}
        warnings={[]}
        checking={false}
      />,
    );
    const control = document.getElementById("def-nodes-1-buttons-0-title")!;
    expect(control.getAttribute("aria-invalid")).toBe("true");
    expect(document.getElementById("def-nodes-1-buttons-0-title-error")!.textContent).toContain("(title_too_long)");
    const rowsError = report.errors.find((problem) => problem.code === "too_many_rows");
    expect(rowsError).toBeDefined();
    const target = controlForPath(rowsError!.path, structuredControls(definition));
    expect(document.getElementById(target)?.closest(".ns-options")?.querySelector("h3")?.textContent).toBe("List (11/10 rows)");
    expect(document.body.textContent).toContain("(too_many_rows)");
  });
});

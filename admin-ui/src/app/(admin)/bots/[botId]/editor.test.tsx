/**
 * The bot editor: validation errors point at the offending field, and the
 * test chat runs the draft through the real routing Wasm.
 */
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { starterDefinition } from "@/lib/definition";
import { loadRouting } from "@/lib/routing";
import { StructuredEditor } from "./StructuredEditor";
import { describeAction, TestChat } from "./TestChat";
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

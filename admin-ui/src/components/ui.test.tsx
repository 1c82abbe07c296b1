import { fireEvent, render, screen, within } from "@testing-library/react";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";
import { DeliveryStatus, SessionBadge } from "./StatusBadges";
import { BarChart, niceMax } from "./ui/BarChart";
import { ConfirmDialog } from "./ui/ConfirmDialog";
import { EmptyState } from "./ui/EmptyState";
import { Field } from "./ui/Field";
import { Tabs } from "./ui/Tabs";
import { seedFrom, sketchRectangle } from "./ui/rough";

describe("status badges", () => {
  it("show an icon and a word", () => {
    const { container } = render(<SessionBadge status="logged_out" />);
    expect(screen.getByText("Logged out")).toBeTruthy();
    expect(container.querySelector("svg")).toBeTruthy();
    render(<DeliveryStatus status="delivered" />);
    expect(screen.getByText("Delivered")).toBeTruthy();
  });
});

describe("Field", () => {
  it("labels the control and links its hint and errors", () => {
    render(
      <Field label="Phone" hint="E.164" error="Not a number">
        {(control) => <input {...control} />}
      </Field>,
    );
    const input = screen.getByLabelText("Phone");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    const described = input.getAttribute("aria-describedby")!.split(" ").map((id) => document.getElementById(id)?.textContent);
    expect(described).toEqual(["E.164", "Not a number"]);
  });
});

describe("Tabs", () => {
  function Example() {
    const [selected, setSelected] = useState("form");
    return (
      <Tabs label="View" tabs={[{ id: "form", label: "Form" }, { id: "json", label: "JSON" }]} selected={selected} onSelect={setSelected}>
        <p>panel {selected}</p>
      </Tabs>
    );
  }
  it("move with the arrow keys", () => {
    render(<Example />);
    const form = screen.getByRole("tab", { name: "Form" });
    expect(form.getAttribute("aria-selected")).toBe("true");
    fireEvent.keyDown(form, { key: "ArrowRight" });
    expect(screen.getByRole("tab", { name: "JSON" }).getAttribute("aria-selected")).toBe("true");
    expect(screen.getByRole("tabpanel").textContent).toBe("panel json");
    fireEvent.keyDown(screen.getByRole("tab", { name: "JSON" }), { key: "Home" });
    expect(screen.getByRole("tabpanel").textContent).toBe("panel form");
  });
});

describe("ConfirmDialog", () => {
  it("runs the action only when confirmed", async () => {
    const onConfirm = vi.fn();
    const onCancel = vi.fn();
    render(
      <ConfirmDialog open title="Restart the session?" confirmLabel="Restart" onConfirm={onConfirm} onCancel={onCancel}>
        <p>It reconnects.</p>
      </ConfirmDialog>,
    );
    const dialog = document.querySelector("dialog")!;
    expect(within(dialog).getByText("Restart the session?")).toBeTruthy();
    fireEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(onCancel).toHaveBeenCalledOnce();
    expect(onConfirm).not.toHaveBeenCalled();
    fireEvent.click(within(dialog).getByRole("button", { name: "Restart" }));
    expect(onConfirm).toHaveBeenCalledOnce();
  });
});

describe("rough decoration", () => {
  it("draws the same sketch for the same id", () => {
    expect(seedFrom("a")).toBe(seedFrom("a"));
    expect(seedFrom("a")).not.toBe(seedFrom("b"));
    expect(sketchRectangle("x", 0, 0, 10, 10)).toEqual(sketchRectangle("x", 0, 0, 10, 10));
  });

  it("is hidden from assistive technology", () => {
    const { container } = render(<EmptyState id="e" title="Nothing yet">Add one.</EmptyState>);
    expect(container.querySelector("svg")!.getAttribute("aria-hidden")).toBe("true");
  });
});

describe("BarChart", () => {
  it("rounds its scale and gives the numbers as a table", () => {
    expect([niceMax(0), niceMax(3), niceMax(7), niceMax(45), niceMax(101)]).toEqual([4, 5, 10, 50, 200]);
    render(
      <BarChart
        id="c"
        title="Volume"
        data={[
          { key: "1", label: "01:00", inbound: 3, outbound: 1 },
          { key: "2", label: "02:00", inbound: 0, outbound: 2 },
        ]}
      />,
    );
    expect(screen.getByRole("img").getAttribute("aria-labelledby")).toBe("c-caption");
    expect(document.getElementById("c-caption")!.textContent).toBe("Volume: 6 messages in all.");
    const rows = within(screen.getByRole("table")).getAllByRole("row").map((row) => row.textContent);
    expect(rows).toEqual(["HourInboundOutbound", "01:0031", "02:0002"]);
  });
});

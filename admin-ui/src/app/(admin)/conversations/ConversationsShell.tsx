"use client";
/**
 * Conversations: the inbox beside the selected thread. The inbox lives in
 * this layout so its filters survive moving between threads; on narrow
 * screens the open thread takes the whole width (with a way back).
 */
import { usePathname } from "next/navigation";
import { Inbox } from "./Inbox";

export function ConversationsShell({ children }: { children: React.ReactNode }) {
  const pathname = usePathname();
  const selected = pathname.split("/")[2] ?? null;
  return (
    <div className="ns-split ns-split--inbox" data-thread-open={selected !== null}>
      <div className="ns-inbox-pane">
        <Inbox selectedId={selected} />
      </div>
      <div className="ns-thread-pane">{children}</div>
    </div>
  );
}

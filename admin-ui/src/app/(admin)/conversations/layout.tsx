import type { Metadata } from "next";
import { ConversationsShell } from "./ConversationsShell";

export const metadata: Metadata = { title: "Conversations" };

export default function Layout({ children }: { children: React.ReactNode }) {
  return <ConversationsShell>{children}</ConversationsShell>;
}

import "@fontsource/patrick-hand/400.css";
import "./globals.css";
import "./components.css";
import "./shell.css";
import type { Metadata, Viewport } from "next";
import { Providers } from "./providers";
import { THEME_BOOTSTRAP } from "@/components/ui/ThemeToggle";

export const metadata: Metadata = {
  title: { default: "wabot admin", template: "%s · wabot admin" },
  description: "Bots, numbers, conversations and alerts of the WhatsApp bot platform.",
};

export const viewport: Viewport = {
  width: "device-width",
  initialScale: 1,
  colorScheme: "light dark",
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        <script dangerouslySetInnerHTML={{ __html: THEME_BOOTSTRAP }} />
      </head>
      <body>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}

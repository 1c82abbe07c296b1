/**
 * The outbound-URL guard (`_shared/outbound-url.ts`): every blocked range,
 * IPv6 and IPv4-mapped forms, decimal/octal/hex IPv4, names resolving to
 * loopback (real DNS for `localhost`), the allow-list, redirects, and that
 * a refused URL is never fetched (a real local receiver counts requests).
 */

import { equal, ok, rejects, throws } from "node:assert/strict";

import {
  checkOutboundUrl,
  checkOutboundUrlSyntax,
  guardedFetch,
  OutboundUrlError,
  parseAllowList,
  type Resolver,
} from "../_shared/outbound-url.ts";
import { startTestServer } from "./helpers.ts";

const NONE = parseAllowList("");

/** A resolver answering fixed addresses for every name (a fake DNS server: no hostile DNS runs here). */
const fakeDns = (addresses: string[]): Resolver => () => Promise.resolve(addresses);

const REFUSED_LITERALS = [
  "http://127.0.0.1/",
  "http://127.1.2.3:8080/x",
  "http://0.0.0.0/",
  "http://10.1.2.3/",
  "http://172.16.0.1/",
  "http://172.31.255.255/",
  "http://192.168.1.1/",
  "http://100.64.0.1/",
  "http://100.127.255.254/",
  "http://169.254.169.254/latest/meta-data/",
  "http://169.254.1.1/",
  "http://224.0.0.1/",
  "http://239.255.255.250/",
  "http://255.255.255.255/",
  "http://240.0.0.1/",
  "http://198.18.0.1/",
  "http://[::1]/",
  "http://[::]/",
  "http://[fe80::1]/",
  "http://[fc00::1]/",
  "http://[fd12:3456::1]/",
  "http://[fd00:ec2::254]/",
  "http://[ff02::1]/",
  "http://[::ffff:127.0.0.1]/",
  "http://[::ffff:7f00:1]/",
  "http://[::ffff:169.254.169.254]/",
  "http://[0:0:0:0:0:ffff:a9fe:a9fe]/",
  "http://[::ffff:10.0.0.1]/",
  "http://[::127.0.0.1]/",
  "http://[64:ff9b::a9fe:a9fe]/",
  "http://[2002:7f00:1::]/",
  // Decimal, octal and hex spellings of 127.0.0.1 and 169.254.169.254.
  "http://2130706433/",
  "http://0177.0.0.1/",
  "http://0x7f.1/",
  "http://0x7f000001/",
  "http://2852039166/",
  "http://0xa9.0xfe.0xa9.0xfe/",
  "http://localhost/",
  "http://LOCALHOST.:8080/",
  "http://api.localhost/",
  "http://metadata.google.internal/computeMetadata/v1/",
];

Deno.test("outbound-url guard: every blocked range and spelling is refused, without DNS", async (t) => {
  for (const url of REFUSED_LITERALS) {
    await t.step(url, async () => {
      throws(() => checkOutboundUrlSyntax(url, { allow: NONE }), OutboundUrlError);
      await rejects(
        checkOutboundUrl(url, { allow: NONE, resolve: fakeDns(["93.184.216.34"]) }),
        OutboundUrlError,
      );
    });
  }
});

Deno.test("outbound-url guard: schemes, credentials and malformed URLs", async () => {
  for (const url of ["file:///etc/passwd", "gopher://example.com/", "ftp://example.com/", "not a url"]) {
    throws(() => checkOutboundUrlSyntax(url, { allow: NONE }), OutboundUrlError, url);
  }
  throws(
    () => checkOutboundUrlSyntax("https://user:pass@hooks.example.com/", { allow: NONE }),
    /credentials/,
  );
  await rejects(checkOutboundUrl("https://user@hooks.example.com/", { allow: NONE }), /credentials/);
});

Deno.test("outbound-url guard: public addresses pass", async () => {
  for (const url of ["https://93.184.216.34/hook", "http://[2606:4700::1111]/", "http://8.8.8.8:8080/"]) {
    const checked = await checkOutboundUrl(url, { allow: NONE, resolve: fakeDns([]) });
    equal(checked.url.href, new URL(url).href);
  }
  const checked = await checkOutboundUrl("https://hooks.example.com/x", {
    allow: NONE,
    resolve: fakeDns(["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]),
  });
  equal(checked.addresses.length, 2);
});

Deno.test("outbound-url guard: a name is refused when any resolved address is not public", async () => {
  await rejects(
    checkOutboundUrl("https://rebind.example.com/", {
      allow: NONE,
      resolve: fakeDns(["93.184.216.34", "10.0.0.5"]),
    }),
    /10\.0\.0\.5, private/,
  );
  await rejects(
    checkOutboundUrl("https://meta.example.com/", { allow: NONE, resolve: fakeDns(["169.254.169.254"]) }),
    /cloud metadata/,
  );
  await rejects(
    checkOutboundUrl("https://v6.example.com/", { allow: NONE, resolve: fakeDns(["::ffff:127.0.0.1"]) }),
    /loopback/,
  );
  await rejects(
    checkOutboundUrl("https://empty.example.com/", { allow: NONE, resolve: fakeDns([]) }),
    /no address/,
  );
});

Deno.test("outbound-url guard: localhost is refused by name, before any DNS answer is trusted", async () => {
  // Deno.resolveDns asks the configured DNS server, not /etc/hosts, so the
  // name rule (not a lookup) is what stops `localhost`.
  await rejects(checkOutboundUrl("http://localhost:9/", { allow: NONE }), /local or metadata name/);
  await rejects(
    checkOutboundUrl("http://loopback-by-dns.test/", { allow: NONE, resolve: fakeDns(["127.0.0.1"]) }),
    /resolves to 127\.0\.0\.1, loopback/,
  );
});

Deno.test("outbound-url guard: the allow-list admits hosts, addresses and CIDR ranges", async () => {
  const allow = parseAllowList("127.0.0.0/8, ::1, receiver.internal.example 10.1.0.0/16");
  await checkOutboundUrl("http://127.0.0.1:9/", { allow });
  await checkOutboundUrl("http://2130706433/", { allow });
  await checkOutboundUrl("http://[::1]:9/", { allow });
  await checkOutboundUrl("http://RECEIVER.internal.example/", { allow, resolve: fakeDns(["10.9.9.9"]) });
  await checkOutboundUrl("http://svc.example.com/", { allow, resolve: fakeDns(["10.1.2.3"]) });
  await rejects(
    checkOutboundUrl("http://svc.example.com/", { allow, resolve: fakeDns(["10.2.0.1"]) }),
    /private/,
  );
  await rejects(checkOutboundUrl("http://169.254.169.254/", { allow }), /metadata/);
  throws(() => parseAllowList("10.0.0.0/33"), /CIDR/);
  throws(() => parseAllowList("http://x/"), /not a host name/);
  // The environment variable is read on each call.
  Deno.env.set("WABOT_OUTBOUND_ALLOW", "192.168.0.0/16");
  try {
    await checkOutboundUrl("http://192.168.4.4/");
    await rejects(checkOutboundUrl("http://10.0.0.1/"), OutboundUrlError);
  } finally {
    Deno.env.delete("WABOT_OUTBOUND_ALLOW");
  }
});

Deno.test("outbound-url guard: a refused URL is never fetched, and redirects are not followed", async () => {
  const receiver = startTestServer((request) =>
    request.path === "/redirect"
      ? new Response(null, { status: 302, headers: { location: "http://169.254.169.254/latest/meta-data/" } })
      : new Response("ok")
  );
  try {
    const port = new URL(receiver.url).port;
    await rejects(
      guardedFetch(`http://127.0.0.1:${port}/hook`, { method: "POST" }, { allow: NONE }),
      /loopback/,
    );
    await rejects(guardedFetch(`http://2130706433:${port}/hook`, {}, { allow: NONE }), /loopback/);
    equal(receiver.requests.length, 0, "nothing reached the receiver");

    const allow = parseAllowList("127.0.0.1");
    const redirected = await guardedFetch(`http://127.0.0.1:${port}/redirect`, {}, { allow });
    equal(redirected.status, 302, "the redirect is the answer, not followed");
    await redirected.body?.cancel();
    equal(receiver.requests.length, 1);

    // A name resolved by the guard is fetched at the checked address, under its own Host.
    const byName = await guardedFetch(`http://receiver.test:${port}/named`, {}, {
      allow,
      resolve: fakeDns(["127.0.0.1"]),
    });
    equal(await byName.text(), "ok");
    equal(receiver.requests[1].headers.get("host"), `receiver.test:${port}`);
    ok(receiver.requests.every((request) => request.path !== "/latest/meta-data/"));
  } finally {
    await receiver.close();
  }
});

// The Beacon API server's bounds over real HTTP, each with small limits so it is reached quickly: JSON nesting,
// large bodies at once, idle and slowly dripping connections, the connection cap; and event streams, which must
// outlive the timeouts. After each bound is hit the server must still answer.
import assert from "node:assert/strict";
import { once } from "node:events";
import http from "node:http";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { createBeaconApiServer, DEFAULT_API_LIMITS, type ApiLimits } from "../../src/api/server/index.js";
import { jsonDepthExceeds, resolveApiLimits } from "../../src/api/server/limits.js";
import { buildApiTestChain, type ApiTestChain } from "../utils/apiServerChain.js";

let tc: ApiTestChain;

before(async () => {
  tc = await buildApiTestChain({ validators: 16, slots: 0 });
});

after(async () => {
  await tc?.close();
});

/** Runs `fn` against a server with `limits`, closed afterwards. */
async function withServer(limits: Partial<ApiLimits>, fn: (port: number) => Promise<void>): Promise<void> {
  const server = await createBeaconApiServer({ chain: tc.chain, limits });
  try {
    await fn((await server.listen("127.0.0.1", 0)).port);
  } finally {
    await server.close();
  }
}

interface RawResponse {
  status: number;
  head: string;
  body: string;
}

/** A raw TCP connection: records what it receives and when the server closes it. */
function connect(port: number) {
  const socket = net.connect(port, "127.0.0.1");
  socket.setEncoding("latin1");
  let received = "";
  let isClosed = false;
  socket.on("data", (d: string) => (received += d));
  socket.on("error", () => {}); // a reset is one way for the server to close
  const closed = once(socket, "close").then(() => {
    isClosed = true;
  });
  /** The length of the whole response at the start of what was received, 0 if it has not all arrived. */
  const responseLength = (): number => {
    const end = received.indexOf("\r\n\r\n");
    if (end < 0) return 0;
    const length = end + 4 + Number(/content-length: (\d+)/i.exec(received.slice(0, end))?.[1] ?? 0);
    return received.length >= length ? length : 0;
  };
  /** Resolves once `done()` holds of what was received, or with false when the connection closes first. */
  const until = async (done: () => boolean): Promise<boolean> => {
    while (!done()) {
      if (isClosed) return false;
      await Promise.race([once(socket, "data"), closed]);
    }
    return true;
  };
  return {
    socket,
    closed,
    get received() {
      return received;
    },
    get isClosed() {
      return isClosed;
    },
    /** Resolves once a whole response (with a content-length) has arrived, or with false when the connection closes first. */
    hasResponse: () => until(() => responseLength() > 0),
    /** Reads one whole response, removing it from what was received. */
    async response(): Promise<RawResponse> {
      if (!(await until(() => responseLength() > 0))) {
        throw new Error(`connection closed before a whole response: ${JSON.stringify(received)}`);
      }
      const end = received.indexOf("\r\n\r\n");
      const head = received.slice(0, end);
      const body = received.slice(end + 4, responseLength());
      received = received.slice(responseLength());
      return { status: Number(head.split(" ")[1]), head, body };
    },
    async get(path: string): Promise<RawResponse> {
      socket.write(`GET ${path} HTTP/1.1\r\nhost: test\r\n\r\n`);
      return this.response();
    },
  };
}

/** The head of a JSON POST, for a body to be written after it. */
const postHead = (path: string, length: number) =>
  `POST ${path} HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n`;

/** Writes `text` one byte every `everyMs` until it is all sent or the connection closes; resolves with the bytes sent. */
async function drip(c: ReturnType<typeof connect>, text: string, everyMs: number): Promise<number> {
  let sent = 0;
  while (sent < text.length && !c.isClosed) {
    c.socket.write(text[sent++]);
    await Promise.race([new Promise((r) => setTimeout(r, everyMs)), c.closed]);
  }
  await c.closed;
  return sent;
}

/** Whether `check` comes true within a few tries (for what the server does just after the client sees it). */
async function eventually(check: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

const versionOk = async (port: number) => {
  const res = await fetch(`http://127.0.0.1:${port}/eth/v1/node/version`);
  assert.equal(res.status, 200);
  assert.match(((await res.json()) as { data: { version: string } }).data.version, /Cairn/);
};

interface JsonResponse {
  status: number;
  body: { code: number; message: string } | null;
  retryAfter: string | null;
}

async function postJson(port: number, path: string, body: string): Promise<JsonResponse> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, retryAfter: res.headers.get("retry-after") };
}

describe("options", () => {
  it("limits default sensibly, and bad ones are refused by name", () => {
    assert.deepEqual(resolveApiLimits(), DEFAULT_API_LIMITS);
    assert.equal(resolveApiLimits({ maxConnections: 3 }).maxConnections, 3);
    assert.throws(() => resolveApiLimits({ maxLargeBodies: 0 }), /maxLargeBodies must be a positive integer/);
    assert.throws(() => resolveApiLimits({ keepAliveTimeoutMs: 1.5 }), /keepAliveTimeoutMs/);
    assert.throws(
      () => resolveApiLimits({ headersTimeoutMs: 2000, requestTimeoutMs: 1000 }),
      /headersTimeoutMs \(2000\) exceeds requestTimeoutMs/,
    );
    assert.throws(() => resolveApiLimits({ maxSockets: 1 } as never), /unknown API limit maxSockets/);
  });
});

describe("JSON nesting", () => {
  it("depth is counted over brackets outside strings, escapes honored", () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    assert.equal(jsonDepthExceeds(enc("[".repeat(3) + "]".repeat(3)), 3), false);
    assert.equal(jsonDepthExceeds(enc("[".repeat(4) + "]".repeat(4)), 3), true);
    assert.equal(jsonDepthExceeds(enc('[{"a":[1]},{"b":[2]},[[3]]]'), 3), false);
    // brackets in strings do not count, nor do they after an escaped quote or backslash
    assert.equal(jsonDepthExceeds(enc('{"a":"[[[[\\"[[[[","b":"\\\\"}'), 1), false);
    assert.equal(jsonDepthExceeds(enc('{"a":"\\\\",  "b":[[1]]}'), 2), true);
    assert.equal(jsonDepthExceeds(enc('["\u00e9[[[", "\\u005b"]'), 1), false);
  });

  it("a body nested deeper than the limit is a 400 naming it, and the server still answers", { timeout: 20_000 }, async () => {
    await withServer({}, async (port) => {
      const deep = await postJson(port, "/eth/v1/beacon/pool/attestations", "[".repeat(10_000) + "]".repeat(10_000));
      assert.equal(deep.status, 400);
      assert.equal(deep.body?.code, 400);
      assert.match(deep.body!.message, /JSON nesting deeper than 64 levels/);
      // at the limit it is parsed and judged by the endpoint
      const atLimit = await postJson(port, "/eth/v1/beacon/pool/attestations", "[".repeat(64) + "]".repeat(64));
      assert.equal(atLimit.status, 400);
      assert.doesNotMatch(atLimit.body!.message, /nesting/);
      assert.match(atLimit.body!.message, /body\[0\]/);
      assert.equal((await postJson(port, "/eth/v1/beacon/pool/attestations", "[]")).status, 200);
      await versionOk(port);
    });
  });
});

describe("large bodies at once", () => {
  it("past maxLargeBodies a large body gets 503 with Retry-After; small ones pass; places come back", { timeout: 20_000 }, async () => {
    await withServer({ largeBodyBytes: 1000, maxLargeBodies: 2 }, async (port) => {
      const path = "/eth/v1/beacon/pool/attestations";
      const large = `[${" ".repeat(3000)}]`;
      // three large bodies begun and left unfinished: two hold the places, the third is refused at once
      const held = [connect(port), connect(port), connect(port)];
      for (const c of held) {
        c.socket.write(`${postHead(path, large.length)}[`);
      }
      await Promise.race(held.map((c) => c.hasResponse()));
      const refused = held.findIndex((c) => /\r\n\r\n/.test(c.received));
      const res = await held[refused].response();
      assert.equal(res.status, 503);
      assert.match(res.head, /retry-after: 1/i);
      assert.match(JSON.parse(res.body).message, /too many large request bodies at once \(at most 2\)/);
      const holding = held.filter((_, i) => i !== refused);

      // while both places are held: another large body is refused, whether its length is declared or not
      const declared = await postJson(port, path, large);
      assert.equal(declared.status, 503);
      assert.equal(declared.retryAfter, "1");
      const chunked = await postChunked(port, path, [large.slice(0, 800), large.slice(800, 1600), large.slice(1600)]);
      assert.equal(chunked.status, 503);
      assert.equal(chunked.retryAfter, "1");
      // small bodies are not affected, chunked or not
      assert.equal((await postJson(port, path, "[]")).status, 200);
      assert.equal((await postChunked(port, path, ["[", "]"])).status, 200);
      await versionOk(port);

      // the held bodies, finished, are answered by the endpoint
      for (const c of holding) {
        c.socket.write(large.slice(1));
        assert.equal((await c.response()).status, 200);
        c.socket.destroy();
      }
      held[refused].socket.destroy();
      // and their places are free again (released when each response closes, just after the client has it)
      assert.equal(await eventually(async () => (await postJson(port, path, large)).status === 200), true);
      assert.equal((await postChunked(port, path, [large.slice(0, 1500), large.slice(1500)])).status, 200);

      // clients gone mid-body give their places back too
      const gone = [connect(port), connect(port)];
      for (const c of gone) {
        c.socket.write(`${postHead(path, large.length)}[`);
      }
      assert.equal(await eventually(async () => (await postJson(port, path, large)).status === 503), true);
      for (const c of gone) c.socket.destroy();
      assert.equal(await eventually(async () => (await postJson(port, path, large)).status === 200), true);
    });
  });
});

/** POSTs `chunks` with chunked transfer encoding (no content-length). */
async function postChunked(port: number, path: string, chunks: string[]): Promise<{ status: number; retryAfter: string | null }> {
  const req = http.request({ host: "127.0.0.1", port, path, method: "POST", headers: { "content-type": "application/json" } });
  const response = once(req, "response") as Promise<[http.IncomingMessage]>;
  req.on("error", () => {}); // the server may answer before the whole body is sent
  for (const chunk of chunks) req.write(chunk);
  req.end();
  const [res] = await response;
  res.resume();
  await once(res, "end");
  return { status: res.statusCode!, retryAfter: (res.headers["retry-after"] as string | undefined) ?? null };
}

describe("timeouts", () => {
  const slow = { timeout: 20_000 };
  const limits = { keepAliveTimeoutMs: 100, headersTimeoutMs: 200, requestTimeoutMs: 300 };

  it("an idle connection is closed after the keep-alive timeout, a silent new one at the headers timeout", slow, async () => {
    await withServer(limits, async (port) => {
      const used = connect(port);
      assert.equal((await used.get("/eth/v1/node/version")).status, 200);
      const silent = connect(port);
      await Promise.all([used.closed, silent.closed]);
      assert.equal(used.received, "");
      assert.match(silent.received, /^HTTP\/1.1 408/);
      await versionOk(port);
    });
  });

  it("a client dripping its headers is cut at the headers timeout, one dripping its body at the request timeout", slow, async () => {
    await withServer(limits, async (port) => {
      const headers = connect(port);
      const endless = `GET /eth/v1/node/version HTTP/1.1\r\nhost: test\r\nx-slow: ${"a".repeat(10_000)}`;
      const body = connect(port);
      body.socket.write(`${postHead("/eth/v1/beacon/pool/attestations", 10_000)}[`);
      const [headerBytes, bodyBytes] = await Promise.all([drip(headers, endless, 20), drip(body, " ".repeat(9998), 20)]);
      assert.ok(headerBytes < endless.length && bodyBytes < 9998, "cut before the request was whole");
      assert.match(headers.received, /^HTTP\/1.1 408/);
      assert.match(body.received, /^HTTP\/1.1 408/);
      await versionOk(port);
    });
  });

  it("an event stream outlives the request and socket timeouts", slow, async () => {
    await withServer({ ...limits, socketTimeoutMs: 150 }, async (port) => {
      const stream = connect(port);
      stream.socket.write("GET /eth/v1/events?topics=block HTTP/1.1\r\nhost: test\r\n\r\n");
      // a request dripped over the same time is cut: the timeouts were in force while the stream was quiet
      const body = connect(port);
      body.socket.write(`${postHead("/eth/v1/beacon/pool/attestations", 10_000)}[`);
      await drip(body, " ".repeat(9998), 20);
      assert.match(body.received, /^HTTP\/1.1 408/);
      assert.equal(stream.isClosed, false);
      assert.match(stream.received, /^HTTP\/1.1 200[^]*text\/event-stream[^]*: connected/);
      const root = `0x${"ab".repeat(32)}`;
      tc.chain.emitter.emit("block", { slot: 7, root });
      const event = `event: block\ndata: ${JSON.stringify({ slot: "7", block: root, execution_optimistic: false })}\n\n`;
      while (!stream.received.includes(event)) {
        assert.equal(stream.isClosed, false, "the event stream was cut");
        await Promise.race([once(stream.socket, "data"), stream.closed]);
      }
      stream.socket.destroy();
    });
  });
});

describe("connection cap", () => {
  it("connections beyond maxConnections are closed at once while the open ones keep working", { timeout: 20_000 }, async () => {
    await withServer({ maxConnections: 2 }, async (port) => {
      const open = [connect(port), connect(port)];
      for (const c of open) assert.equal((await c.get("/eth/v1/node/version")).status, 200);
      const extra = connect(port);
      extra.socket.write("GET /eth/v1/node/version HTTP/1.1\r\nhost: test\r\n\r\n");
      await extra.closed;
      assert.equal(extra.received, "");
      for (const c of open) assert.equal((await c.get("/eth/v1/node/version")).status, 200);

      // a place freed is a place for a new connection (once the server has seen the close)
      open[0].socket.destroy();
      const answered = await eventually(async () => {
        const c = connect(port);
        const ok = await c.get("/eth/v1/node/version").then(
          (res) => res.status === 200,
          () => false,
        );
        c.socket.destroy();
        return ok;
      });
      assert.ok(answered, "a new connection is served once one has closed");
      assert.equal((await open[1].get("/eth/v1/node/version")).status, 200);
      open[1].socket.destroy();
    });
  });
});

// A small reader for `text/event-stream` (the WHATWG server-sent events format) over a fetch body stream.

export interface ServerSentEvent {
  /** The `event:` field; "message" when the server sent none. */
  event: string;
  data: string;
  id: string | undefined;
}

/**
 * Reads events from `body` until the stream ends (resolves) or fails (rejects), calling `onEvent` for each one.
 * Lines may end in CRLF, LF or CR, and chunks may split them anywhere.
 */
export async function readEventStream(body: ReadableStream<Uint8Array>, onEvent: (e: ServerSentEvent) => void): Promise<void> {
  const decoder = new TextDecoder("utf-8");
  const reader = body.getReader();
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let id: string | undefined;
  let lastId: string | undefined;

  const line = (text: string): void => {
    if (text === "") {
      if (data.length > 0) {
        lastId = id ?? lastId;
        onEvent({ event: event === "" ? "message" : event, data: data.join("\n"), id: lastId });
      }
      event = "";
      data = [];
      id = undefined;
      return;
    }
    if (text.startsWith(":")) return; // a comment, often a keep-alive
    const colon = text.indexOf(":");
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
    else if (field === "id" && !value.includes("\0")) id = value;
    // "retry" and unknown fields are ignored: reconnection timing is the caller's policy
  };

  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let start = 0;
      for (;;) {
        const cr = buffer.indexOf("\r", start);
        const lf = buffer.indexOf("\n", start);
        const end = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf);
        if (end < 0) break;
        let next = end + 1;
        if (buffer[end] === "\r") {
          // a CR at the end of the buffer may be the first half of a CRLF: wait for the next chunk
          if (end === buffer.length - 1 && !done) break;
          if (buffer[end + 1] === "\n") next++;
        }
        line(buffer.slice(start, end));
        start = next;
      }
      buffer = buffer.slice(start);
      if (done) return; // an unterminated last event is dropped, as the format says
    }
  } finally {
    reader.releaseLock();
  }
}

// src/audit/app.ts: the app the catalogue's answers assume behind the server under audit. Any
// "hello" app answers the request cases alike; the response cases need this one's two habits:
// - HEAD gets no body and no length from the app, as Hono answers HEAD (its GET handler's
//   fields around a null body), so the server alone decides HEAD's framing fields;
// - `/hop-by-hop` sets the connection-level fields Hono's streamSSE sets, around a streamed body.
// scripts/audit-doc.mjs gives node:http the same habits.

/** Fields an app has no business setting, as Hono's streaming helpers set them. */
export const APP_HOP_BY_HOP_FIELDS: Readonly<Record<string, string>> = Object.freeze({
  connection: 'keep-alive',
  'keep-alive': 'timeout=5',
  'transfer-encoding': 'chunked',
});

/** 200 "ok" to any request once its body is read; see the file header for HEAD and /hop-by-hop. */
export async function auditApp(request: Request): Promise<Response> {
  await request.arrayBuffer();
  if (new URL(request.url).pathname === '/hop-by-hop') {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('ok'));
        controller.close();
      },
    });
    return new Response(body, { headers: APP_HOP_BY_HOP_FIELDS });
  }
  return new Response(request.method === 'HEAD' ? null : 'ok');
}

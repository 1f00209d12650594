// examples/hello/app.mjs: the smallest Fetch app. Serve it with
//   npm run serve:hello        (or: npx waitstate-serve --listen=127.0.0.1:8080 examples/hello/app.mjs:app)
export function app() {
  return new Response('Hello, World!');
}

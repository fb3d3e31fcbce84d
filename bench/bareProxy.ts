// The floor for any Node proxy: body buffered, forwarded to one fixed backend with undici, response
// piped back. No auth, no selection, no breaker. `npm run bench` measures the router against it.

import { createServer } from "node:http";
import { Pool } from "undici";

const target = process.env.BARE_TARGET ?? "";
const pool = new Pool(target, { connections: 128 });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const headers = { ...req.headers };
    delete headers.host;
    delete headers.connection;
    delete headers["content-length"];
    pool
      .request({ path: req.url ?? "/", method: (req.method ?? "GET") as "POST", headers, body: Buffer.concat(chunks) })
      .then((upstream) => {
        res.writeHead(upstream.statusCode, upstream.headers as Record<string, string>);
        upstream.body.pipe(res);
      })
      .catch(() => {
        res.writeHead(502).end();
      });
  });
});

server.listen(0, "127.0.0.1", () => {
  const address = server.address() as { port: number };
  process.stdout.write(`bare proxy listening on http://127.0.0.1:${address.port}\n`);
});
process.on("SIGTERM", () => process.exit(0));

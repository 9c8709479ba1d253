/**
 * A real SMTP server for tests and the demo (npm's smtp-server, parsed with mailparser): it
 * accepts every message except those to an address starting with `refuse` (answered 550, as
 * a mailbox that does not exist is), keeps what it received in memory, and lists it as JSON
 * at `GET /mails` on a small HTTP port (with `?to=` to keep one recipient's).
 *
 * Run: node tests/support/smtp-sink.mjs [--smtp-port N] [--http-port N]
 * Prints one line `smtp=<port> http=<port>` once both listen (port 0 picks a free one). The
 * stack (tests/support/stack.mjs) starts one in its process with `startSmtpSink`.
 */
import http from 'node:http';
import {simpleParser} from 'mailparser';
import {SMTPServer} from 'smtp-server';

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // smtp-server keeps its net.Server in `.server`.
    const net = server.server || server;
    server.listen(port, '127.0.0.1', () => resolve(net.address().port));
  });
}

/** Starts the sink; resolves to `{smtpPort, httpPort, mails, close()}`. */
export async function startSmtpSink({smtpPort = 0, httpPort = 0} = {}) {
  const mails = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (address.address.toLowerCase().startsWith('refuse')) {
        const error = new Error('No such mailbox here');
        error.responseCode = 550;
        return callback(error);
      }
      callback();
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: parsed.subject || '',
            text: parsed.text || '',
            html: parsed.html || null,
            language: parsed.headers.get('content-language') || null,
            received_at: new Date().toISOString(),
          });
          callback();
        })
        .catch(callback);
    },
  });
  const web = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://sink');
    if (url.pathname !== '/mails') {
      res.writeHead(404).end();
      return;
    }
    const to = url.searchParams.get('to');
    const list = to ? mails.filter((m) => m.to.includes(to)) : mails;
    res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify(list));
  });
  return {
    smtpPort: await listen(smtp, smtpPort),
    httpPort: await listen(web, httpPort),
    mails,
    close: () => new Promise((resolve) => smtp.close(() => web.close(() => resolve()))),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sink = await startSmtpSink({smtpPort: option('--smtp-port', 0), httpPort: option('--http-port', 0)});
  console.log(`smtp=${sink.smtpPort} http=${sink.httpPort}`);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => sink.close().then(() => process.exit(0)));
  }
}

import readline from 'node:readline';
import { Writable } from 'node:stream';

/** A password from piped stdin (first line), or typed at a prompt that does not echo it. */
export async function readPassword(prompt: string, input: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (!input.isTTY) {
    let text = '';
    for await (const chunk of input) text += String(chunk);
    return text.split(/\r?\n/)[0] ?? '';
  }
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) process.stdout.write(chunk);
      done();
    },
  });
  const rl = readline.createInterface({ input, output, terminal: true });
  const ask = (question: string) =>
    new Promise<string>((resolve) => {
      process.stdout.write(question);
      muted = true;
      rl.question('', (answer) => {
        muted = false;
        process.stdout.write('\n');
        resolve(answer);
      });
    });
  try {
    const first = await ask(prompt);
    const again = await ask('Repeat it: ');
    if (first !== again) throw new Error('The two passwords differ; nothing was changed.');
    return first;
  } finally {
    rl.close();
  }
}

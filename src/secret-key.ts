import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError } from './config.js';
import { SecretBox } from './core/secret-box.js';
import { PRIVATE_FILE_MODE } from './store/private-files.js';

export const SECRET_KEY_FILE = 'secret.key';

/**
 * The operator's secret that encrypts credentials at rest: MESSAGEAPI_SECRET, or one generated
 * into DATA_DIR on first start (mode 0600) and reused after.
 *
 * `sealed` are a few values already encrypted (see sampleSealedValues): while they exist, a
 * missing key is never generated anew and a key that opens none of them is refused, both with a
 * ConfigError saying what to restore, so that the server stops at start instead of answering 500s.
 */
export function loadOrCreateSecret(dataDir: string, configured: string | undefined, sealed: readonly string[] = []): string {
  const file = path.join(dataDir, SECRET_KEY_FILE);
  const source = configured ? 'MESSAGEAPI_SECRET' : file;
  let secret = configured ?? readSecretFile(file);
  if (secret === undefined) {
    if (sealed.length > 0) {
      throw new ConfigError(
        `The secret key is missing: ${file} does not exist and MESSAGEAPI_SECRET is not set, but the database holds data encrypted with it ` +
          `(webhook signing secrets, WhatsApp credentials). Restore ${file} from your backup (or set MESSAGEAPI_SECRET to the secret used before) and start again. ` +
          'No new key was generated.',
      );
    }
    secret = createSecretFile(dataDir, file);
  }
  if (sealed.length > 0 && !sealed.some((value) => opens(secret, value))) {
    throw new ConfigError(
      `The secret key in ${source} is not the one the stored data was encrypted with (webhook signing secrets, WhatsApp credentials cannot be decrypted). ` +
        (configured
          ? 'Set MESSAGEAPI_SECRET to the secret used before and start again.'
          : `Restore ${file} from your backup (or set MESSAGEAPI_SECRET to the secret used before) and start again.`),
    );
  }
  return secret;
}

function opens(secret: string, sealed: string): boolean {
  try {
    new SecretBox(secret).decryptToBuffer(sealed);
    return true;
  } catch {
    return false;
  }
}

function readSecretFile(file: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const secret = text.trim();
  if (secret === '') throw new ConfigError(`The secret key file ${file} is empty: restore it from your backup, or delete it to have a new one generated (only when nothing was encrypted with the old one).`);
  return secret;
}

function createSecretFile(dataDir: string, file: string): string {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('base64url');
  try {
    fs.writeFileSync(file, `${secret}\n`, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
    return secret;
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return fs.readFileSync(file, 'utf8').trim();
    throw error;
  }
}

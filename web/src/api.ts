/** The dashboard is a client of the same HTTP API as everyone else; the session cookie and a CSRF token stand in for the key. */

export interface AuthState {
  signedIn: boolean;
  setupRequired: boolean;
  signupEnabled: boolean;
  mailConfigured: boolean;
  driver: string;
  baseUrl: string;
  csrfToken: string | null;
  account: { id: string; email: string; plan: string; isAdmin: boolean } | null;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
let onSignedOut: () => void = () => undefined;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function whenSignedOut(callback: () => void): void {
  onSignedOut = callback;
}

export async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    throw new ApiError('The server could not be reached. Check your connection and try again.', 'network_error', 0);
  }
  const data = (await response.json().catch(() => null)) as (T & { success?: boolean; error?: string; code?: string }) | null;
  if (!response.ok || !data || data.success === false) {
    const error = new ApiError(data?.error ?? `The server answered ${response.status}.`, data?.code ?? 'http_error', response.status);
    // Signed out, or the account was disabled meanwhile: back to the sign-in page, which says which.
    if ((response.status === 401 || data?.code === 'account_disabled') && path.startsWith('/api/v1/')) onSignedOut();
    throw error;
  }
  return data;
}

export const authState = () => api<AuthState & { success: true }>('GET', '/auth/state');

// Shapes of the API answers the pages use (SPEC §4, §5).
export interface Status {
  connected: boolean;
  phone: string | null;
  dailyLimit: number | null;
  messagesToday: number;
  plan: string;
  state: string;
  subscriptionActive: boolean;
  subscriptionExpiresAt: string | null;
  /** WhatsApp's limits on the number, as it last reported them. */
  restrictions?: {
    reachoutTimelock: { active: boolean; until: string | null };
    newChatCap: { used: number | null; total: number | null; cycleEndsAt: string | null };
  };
}
export interface SessionAnswer {
  state: string;
  phone: string | null;
  reason: string | null;
  detail: string | null;
  qr: string | null;
  qrDataUrl: string | null;
  pairingCode: string | null;
}
export interface DayCount {
  date: string;
  sent: number;
  failed: number;
  pending: number;
}
export interface MessageView {
  messageId: string;
  direction?: 'in' | 'out';
  status: string;
  recipient: string;
  from?: string | null;
  pushName?: string | null;
  participant?: string | null;
  type: string;
  error: string | null;
  createdAt: string;
  sentAt: string | null;
  deliveredAt: string | null;
  readAt: string | null;
  editedAt?: string | null;
  revokedAt?: string | null;
  content?: MessageContentView | null;
  errorCode?: string | null;
  sendAt?: string | null;
  expiresAt?: string | null;
  priority?: string;
  label?: string | null;
}
/** What a message carried (GET /api/v1/messages): text or caption, media and the kind's own fields. */
export interface MessageContentView {
  text: string | null;
  fileName: string | null;
  media: { id?: string; mimetype: string; size: number; sha256: string } | null;
  mediaError?: string;
  quoted?: { id: string; messageId: string | null; type: string | null; text: string | null };
  gif?: boolean;
  voice?: boolean;
  location?: { latitude: number; longitude: number; name?: string; address?: string };
  contacts?: Array<{ name: string; phones: string[]; email?: string; organization?: string }>;
  poll?: { question: string; options: string[]; multipleAnswers: boolean };
  reaction?: { messageId: string; emoji: string };
  edit?: { messageId: string };
  revoke?: { messageId: string };
  replyTo?: { messageId: string; type: string; text: string | null };
  mentions?: string[];
  mentionAll?: boolean;
}
export interface KeyView {
  id: string;
  prefix: string;
  name: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}
export interface Settings {
  email: string;
  plan: string;
  webhookUrl: string | null;
  webhookSecretPrefix: string | null;
  disconnectEmail: boolean;
  allowedRecipients?: string[];
}
export interface Delivery {
  id: string;
  eventId: string;
  event: string;
  status: 'pending' | 'delivered' | 'dead';
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
  deliveredAt: string | null;
  test?: boolean;
}
export interface AdminAccount {
  id: string;
  email: string;
  plan: string;
  subscriptionExpiresAt: string | null;
  subscriptionActive: boolean;
  active: boolean;
  isAdmin: boolean;
  hasPassword: boolean;
  createdAt: string;
  state: string;
  phone: string | null;
  messagesToday: number;
  dailyLimit: number | null;
}

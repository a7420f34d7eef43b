/**
 * A JSON call to a running gateway with an account's API key, as an integrator's client makes it.
 * The base URL and key are read at call time: the e2e files restart the gateway and make accounts
 * after this is created.
 */
export function keyApi(baseUrl: () => string, apiKey: () => string) {
  return async <T>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${baseUrl()}${url}`, {
      method,
      headers: { 'X-API-Key': apiKey(), ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as T };
  };
}

/** The claims AI Gate reads from ChatGPT id and access tokens. */
export interface ChatgptClaims {
  email?: string;
  exp?: number;
  accountId?: string;
  userId?: string;
  plan?: string;
}

/** Decodes a JWT payload without verifying it: the tokens come from the user's own files or the issuer directly. */
export function decodeJwt(token: string): Record<string, unknown> | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return payload && typeof payload === 'object' ? payload : undefined;
  } catch {
    return undefined;
  }
}

export function chatgptClaims(token: string | undefined): ChatgptClaims {
  const payload = token ? decodeJwt(token) : undefined;
  if (!payload) return {};
  const auth = (payload['https://api.openai.com/auth'] ?? {}) as Record<string, unknown>;
  const profile = (payload['https://api.openai.com/profile'] ?? {}) as Record<string, unknown>;
  return {
    email: str(payload.email) ?? str(profile.email),
    exp: typeof payload.exp === 'number' ? payload.exp : undefined,
    accountId: str(auth.chatgpt_account_id),
    userId: str(auth.chatgpt_user_id) ?? str(auth.user_id),
    plan: str(auth.chatgpt_plan_type),
  };
}

/** The claims of a sign-in: the id token's where it has them (email, plan), the access token's otherwise. */
export function loginClaims(accessToken: string, idToken: string | undefined): ChatgptClaims {
  const id = Object.entries(chatgptClaims(idToken)).filter(([, v]) => v !== undefined);
  return { ...chatgptClaims(accessToken), ...Object.fromEntries(id) };
}

const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

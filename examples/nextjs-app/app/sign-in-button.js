'use client';
import { signIn } from 'next-auth/react';

export default function SignInButton() {
  return (
    <button type="button" onClick={() => signIn('latchkey', { callbackUrl: '/' })}>
      Sign in with Latchkey
    </button>
  );
}

import NextAuth from 'next-auth';
import { authOptions } from '../../../../lib/auth';

function handler(req, ctx) {
  return NextAuth(req, ctx, authOptions());
}

export { handler as GET, handler as POST };

import { loginBody, loginResult, userCreateBody, userView } from '../../access/schemas.js';
import { route } from '../route.js';
import type { UserService } from '../../access/users.js';

/** What these routes use. */
export interface AccessRouteDeps {
  users: UserService;
}

export const accessRoutes = (s: AccessRouteDeps) => [
  route({
    method: 'post',
    path: '/auth/login',
    summary: 'Log in with username and password',
    tag: 'auth',
    roles: 'public',
    body: loginBody,
    response: loginResult,
    handler: async ({ body, req }) => {
      const r = await s.users.login(body.username, body.password, req.ip ?? 'unknown');
      return { token: r.token, expiresAt: r.expiresAt.toISOString(), user: r.user };
    },
  }),
  route({
    method: 'post',
    path: '/users',
    summary: 'Create a user',
    tag: 'auth',
    roles: ['admin'],
    body: userCreateBody,
    response: userView,
    status: 201,
    handler: ({ actor, body }) => s.users.create(actor, body),
  }),
];

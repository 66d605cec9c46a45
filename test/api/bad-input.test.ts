import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedUnit, sql, startTestService, type ApiClient, type TestService } from '../support/service.js';
import { batchBody, expectError, registryCounts, sessionTimes, REGISTRY_ENV } from './fixtures.js';

const CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
/** Appends the GB 32100-2015 check character to a 17-character body. */
const withCheck = (body: string) =>
  body + CHARS[(31 - ([...body].reduce((a, ch, i) => a + CHARS.indexOf(ch) * WEIGHTS[i]!, 0) % 31)) % 31];
const VALID_CODE = withCheck('91320102MA1NXQ3K7');
const wrongCheck = VALID_CODE.slice(0, 17) + CHARS[(CHARS.indexOf(VALID_CODE[17]!) + 1) % 31];
const withLetter = (letter: string) => VALID_CODE.slice(0, 10) + letter + VALID_CODE.slice(11);

interface World {
  unitId: string;
  siteId: string;
  zoneId: string;
  otherSiteId: string;
  otherZoneId: string;
  cameraId: string;
}

interface Case {
  name: string;
  method: 'GET' | 'POST' | 'PUT';
  path: (w: World) => string;
  /** An object is sent as JSON; a string or bytes are sent as they are. */
  body?: (w: World) => unknown;
  headers?: Record<string, string>;
  as?: 'admin' | 'operator';
  status: number;
  code: string;
  field: string;
}

const unit = (over: Record<string, unknown>) => () => ({
  name: 'Unit',
  creditCode: VALID_CODE,
  kind: 'employer',
  ...over,
});
const site = (over: Record<string, unknown>) => (w: World) => ({
  unitId: w.unitId,
  name: 'Site',
  zones: [{ name: 'Z1' }],
  ...over,
});
const camera = (over: Record<string, unknown>) => (w: World) => ({
  siteId: w.siteId,
  name: 'Cam',
  rtspUrl: 'rtsp://192.0.2.1/stream',
  ...over,
});
const batch =
  (over: Record<string, unknown>, session: Record<string, unknown> = {}) =>
  (w: World) =>
    batchBody(w.unitId, w.siteId, {
      sessions: [{ siteId: w.siteId, ...sessionTimes(), ...session }],
      ...over,
    });
const user = (over: Record<string, unknown>) => () => ({
  username: 'someone',
  password: 'long-password',
  role: 'auditor',
  ...over,
});
const at = (hoursFromNow: number) => new Date(Date.now() + hoursFromNow * 3600_000).toISOString();

const V = 'validation_failed';
const cases: Case[] = [
  // Unified social credit codes.
  {
    name: 'credit code with a wrong check character',
    method: 'POST',
    path: () => '/units',
    body: unit({ creditCode: wrongCheck }),
    status: 400,
    code: V,
    field: 'creditCode',
  },
  {
    name: 'credit code in lower case',
    method: 'POST',
    path: () => '/units',
    body: unit({ creditCode: VALID_CODE.toLowerCase() }),
    status: 400,
    code: V,
    field: 'creditCode',
  },
  {
    name: 'credit code of 17 characters',
    method: 'POST',
    path: () => '/units',
    body: unit({ creditCode: VALID_CODE.slice(0, 17) }),
    status: 400,
    code: V,
    field: 'creditCode',
  },
  {
    name: 'credit code of 19 characters',
    method: 'POST',
    path: () => '/units',
    body: unit({ creditCode: `${VALID_CODE}0` }),
    status: 400,
    code: V,
    field: 'creditCode',
  },
  {
    name: "credit code with the forbidden letter 'I'",
    method: 'POST',
    path: () => '/units',
    body: unit({ creditCode: withLetter('I') }),
    status: 400,
    code: V,
    field: 'creditCode',
  },
  {
    name: "credit code with the forbidden letter 'O'",
    method: 'POST',
    path: () => '/units',
    body: unit({ creditCode: withLetter('O') }),
    status: 400,
    code: V,
    field: 'creditCode',
  },
  {
    name: "credit code with the forbidden letter 'Z'",
    method: 'POST',
    path: () => '/units',
    body: unit({ creditCode: withLetter('Z') }),
    status: 400,
    code: V,
    field: 'creditCode',
  },
  {
    name: "credit code with the forbidden letter 'S'",
    method: 'POST',
    path: () => '/units',
    body: unit({ creditCode: withLetter('S') }),
    status: 400,
    code: V,
    field: 'creditCode',
  },
  {
    name: "credit code with the forbidden letter 'V'",
    method: 'POST',
    path: () => '/units',
    body: unit({ creditCode: withLetter('V') }),
    status: 400,
    code: V,
    field: 'creditCode',
  },
  {
    name: 'credit code as a number',
    method: 'POST',
    path: () => '/units',
    body: unit({ creditCode: 913201020000000000 }),
    status: 400,
    code: V,
    field: 'creditCode',
  },
  {
    name: 'credit code empty',
    method: 'POST',
    path: () => '/units',
    body: unit({ creditCode: '' }),
    status: 400,
    code: V,
    field: 'creditCode',
  },
  {
    name: 'credit code with a full-width digit',
    method: 'POST',
    path: () => '/units',
    body: unit({ creditCode: `９${VALID_CODE.slice(1)}` }),
    status: 400,
    code: V,
    field: 'creditCode',
  },
  // Malformed bodies.
  {
    name: 'truncated JSON',
    method: 'POST',
    path: () => '/units',
    body: () => '{"name": "Unit", ',
    status: 400,
    code: 'malformed_json',
    field: '(body)',
  },
  {
    name: 'JSON with a trailing comma',
    method: 'POST',
    path: () => '/units',
    body: () => '{"name": "Unit",}',
    status: 400,
    code: 'malformed_json',
    field: '(body)',
  },
  {
    name: 'single-quoted pseudo-JSON',
    method: 'POST',
    path: () => '/units',
    body: () => "{'name': 'Unit'}",
    status: 400,
    code: 'malformed_json',
    field: '(body)',
  },
  {
    name: 'a JSON array as body',
    method: 'POST',
    path: () => '/units',
    body: () => '[{"name": "Unit"}]',
    status: 400,
    code: V,
    field: '(body)',
  },
  {
    name: 'a JSON string as body',
    method: 'POST',
    path: () => '/units',
    body: () => '"Unit"',
    status: 400,
    code: V,
    field: '(body)',
  },
  {
    name: 'JSON null as body',
    method: 'POST',
    path: () => '/units',
    body: () => 'null',
    status: 400,
    code: V,
    field: '(body)',
  },
  {
    name: 'a body that is not UTF-8',
    method: 'POST',
    path: () => '/units',
    body: () =>
      Buffer.concat([
        Buffer.from('{"name": "'),
        Buffer.from([0xff, 0xfe, 0xc3]),
        Buffer.from('", "creditCode": "x", "kind": "employer"}'),
      ]),
    status: 400,
    code: 'invalid_encoding',
    field: '(body)',
  },
  {
    name: 'a Latin-1 charset',
    method: 'POST',
    path: () => '/units',
    body: () => '{"name": "Unit"}',
    headers: { 'content-type': 'application/json; charset=latin1' },
    status: 415,
    code: 'unsupported_encoding',
    field: '(body)',
  },
  {
    name: 'a body over the size limit',
    method: 'POST',
    path: () => '/sites',
    body: (w) => JSON.stringify({ unitId: w.unitId, name: 'x'.repeat(1_100_000), zones: [] }),
    status: 413,
    code: 'payload_too_large',
    field: '(body)',
  },
  {
    name: 'a JSON body sent as text/plain (not parsed, so fields are missing)',
    method: 'POST',
    path: () => '/units',
    body: () => JSON.stringify(unit({})()),
    headers: { 'content-type': 'text/plain' },
    status: 400,
    code: V,
    field: 'name',
  },
  // Wrong types and values.
  {
    name: 'unit kind outside the enum',
    method: 'POST',
    path: () => '/units',
    body: unit({ kind: 'government' }),
    status: 400,
    code: V,
    field: 'kind',
  },
  {
    name: 'confidential as a string',
    method: 'POST',
    path: () => '/units',
    body: unit({ confidential: 'yes' }),
    status: 400,
    code: V,
    field: 'confidential',
  },
  {
    name: 'unit name as a number',
    method: 'POST',
    path: () => '/units',
    body: unit({ name: 123 }),
    status: 400,
    code: V,
    field: 'name',
  },
  {
    name: 'unit name missing',
    method: 'POST',
    path: () => '/units',
    body: () => ({ creditCode: VALID_CODE, kind: 'employer' }),
    status: 400,
    code: V,
    field: 'name',
  },
  {
    name: 'zones as a string',
    method: 'POST',
    path: () => '/sites',
    body: site({ zones: 'Room A' }),
    status: 400,
    code: V,
    field: 'zones',
  },
  {
    name: 'a zone that is null',
    method: 'POST',
    path: () => '/sites',
    body: site({ zones: [null] }),
    status: 400,
    code: V,
    field: 'zones.0',
  },
  {
    name: 'a zone that is a string',
    method: 'POST',
    path: () => '/sites',
    body: site({ zones: ['Room A', { name: 'B' }] }),
    status: 400,
    code: V,
    field: 'zones.0',
  },
  {
    name: 'a session that is null',
    method: 'POST',
    path: () => '/batches',
    body: batch({ sessions: [null] }),
    status: 400,
    code: V,
    field: 'sessions.0',
  },
  {
    name: 'a user body with the role missing',
    method: 'POST',
    path: () => '/users',
    body: () => ({ username: 'x1', password: 'long-password' }),
    status: 400,
    code: V,
    field: 'role',
  },
  {
    name: 'the same zone name twice',
    method: 'POST',
    path: () => '/sites',
    body: site({ zones: [{ name: 'A' }, { name: 'A' }] }),
    status: 400,
    code: V,
    field: 'zones.1.name',
  },
  {
    name: 'level as a string',
    method: 'POST',
    path: () => '/batches',
    body: batch({ level: '3' }),
    status: 400,
    code: V,
    field: 'level',
  },
  {
    name: 'level 6',
    method: 'POST',
    path: () => '/batches',
    body: batch({ level: 6 }),
    status: 400,
    code: V,
    field: 'level',
  },
  {
    name: 'level 0',
    method: 'POST',
    path: () => '/batches',
    body: batch({ level: 0 }),
    status: 400,
    code: V,
    field: 'level',
  },
  {
    name: 'level 2.5',
    method: 'POST',
    path: () => '/batches',
    body: batch({ level: 2.5 }),
    status: 400,
    code: V,
    field: 'level',
  },
  {
    name: 'occupation code with a short group',
    method: 'POST',
    path: () => '/batches',
    body: batch({ occupationCode: '6-18-1-01' }),
    status: 400,
    code: V,
    field: 'occupationCode',
  },
  {
    name: 'occupation code as free text',
    method: 'POST',
    path: () => '/batches',
    body: batch({ occupationCode: '电工' }),
    status: 400,
    code: V,
    field: 'occupationCode',
  },
  {
    name: 'a batch without sessions',
    method: 'POST',
    path: () => '/batches',
    body: batch({ sessions: [] }),
    status: 400,
    code: V,
    field: 'sessions',
  },
  {
    name: 'zoneIds as a string',
    method: 'PUT',
    path: (w) => `/cameras/${w.cameraId}/zones`,
    body: () => ({ zoneIds: 'all' }),
    status: 400,
    code: V,
    field: 'zoneIds',
  },
  {
    name: 'role outside the enum',
    method: 'POST',
    path: () => '/users',
    body: user({ role: 'root' }),
    status: 400,
    code: V,
    field: 'role',
  },
  {
    name: 'a password of 7 characters',
    method: 'POST',
    path: () => '/users',
    body: user({ password: 'short12' }),
    status: 400,
    code: V,
    field: 'password',
  },
  {
    name: 'a username with a space',
    method: 'POST',
    path: () => '/users',
    body: user({ username: 'some one' }),
    status: 400,
    code: V,
    field: 'username',
  },
  {
    name: 'a unit on an auditor',
    method: 'POST',
    path: () => '/users',
    body: (w) => user({ unitId: w.unitId })(),
    status: 400,
    code: V,
    field: 'unitId',
  },
  // Unknown fields.
  {
    name: 'an unknown top-level field',
    method: 'POST',
    path: () => '/units',
    body: unit({ isAdmin: true }),
    status: 400,
    code: V,
    field: 'isAdmin',
  },
  {
    name: 'an unknown nested field',
    method: 'POST',
    path: () => '/sites',
    body: site({ zones: [{ name: 'Z', camera: 'x' }] }),
    status: 400,
    code: V,
    field: 'zones.0.camera',
  },
  {
    name: 'a column name smuggled as a field',
    method: 'POST',
    path: () => '/users',
    body: user({ password_hash: 'scrypt$x' }),
    status: 400,
    code: V,
    field: 'password_hash',
  },
  {
    name: 'an unknown query parameter',
    method: 'GET',
    path: () => '/units?admin=1',
    status: 400,
    code: V,
    field: 'admin',
  },
  // Huge strings.
  {
    name: 'a unit name of 201 characters',
    method: 'POST',
    path: () => '/units',
    body: unit({ name: '单'.repeat(201) }),
    status: 400,
    code: V,
    field: 'name',
  },
  {
    name: 'a site name of 100 000 characters',
    method: 'POST',
    path: () => '/sites',
    body: site({ name: 'x'.repeat(100_000) }),
    status: 400,
    code: V,
    field: 'name',
  },
  {
    name: 'a region of 101 characters',
    method: 'POST',
    path: () => '/units',
    body: unit({ region: 'r'.repeat(101) }),
    status: 400,
    code: V,
    field: 'region',
  },
  {
    name: 'an RTSP URL of 3000 characters',
    method: 'POST',
    path: () => '/cameras',
    body: camera({ rtspUrl: `rtsp://192.0.2.1/${'a'.repeat(3000)}` }),
    status: 400,
    code: V,
    field: 'rtspUrl',
  },
  // Times.
  {
    name: 'a session ending before it starts',
    method: 'POST',
    path: () => '/batches',
    body: batch({}, { startsAt: at(26), endsAt: at(25) }),
    status: 400,
    code: V,
    field: 'sessions.0.endsAt',
  },
  {
    name: 'a session ending when it starts',
    method: 'POST',
    path: () => '/batches',
    body: batch({}, { startsAt: at(25), endsAt: at(25) }),
    status: 400,
    code: V,
    field: 'sessions.0.endsAt',
  },
  {
    name: 'a session time without an offset',
    method: 'POST',
    path: () => '/batches',
    body: batch({}, { startsAt: '2031-03-01T09:00:00' }),
    status: 400,
    code: V,
    field: 'sessions.0.startsAt',
  },
  {
    name: 'a session time that is not a date',
    method: 'POST',
    path: () => '/batches',
    body: batch({}, { endsAt: 'tomorrow' }),
    status: 400,
    code: V,
    field: 'sessions.0.endsAt',
  },
  // References to zones and sites that are not the right ones.
  {
    name: "a session's zone from another site",
    method: 'POST',
    path: () => '/batches',
    body: (w) => batch({}, { zoneIds: [w.zoneId, w.otherZoneId] })(w),
    status: 400,
    code: V,
    field: 'sessions.0.zoneIds.1',
  },
  {
    name: "a camera's zone from another site",
    method: 'PUT',
    path: (w) => `/cameras/${w.cameraId}/zones`,
    body: (w) => ({ zoneIds: [w.otherZoneId] }),
    status: 400,
    code: V,
    field: 'zoneIds.0',
  },
  // Control characters and broken Unicode.
  {
    name: 'a NUL character in a name',
    method: 'POST',
    path: () => '/units',
    body: unit({ name: 'Unit\u0000A' }),
    status: 400,
    code: V,
    field: 'name',
  },
  {
    name: 'an escape character in a name',
    method: 'POST',
    path: () => '/sites',
    body: site({ name: 'Site\u001b[31m' }),
    status: 400,
    code: V,
    field: 'name',
  },
  {
    name: 'a name of spaces only',
    method: 'POST',
    path: () => '/sites',
    body: site({ name: '   ' }),
    status: 400,
    code: V,
    field: 'name',
  },
  {
    name: 'a lone surrogate in a name (JSON escape)',
    method: 'POST',
    path: () => '/units',
    body: () => `{"name": "Unit \\ud800", "creditCode": "${VALID_CODE}", "kind": "employer"}`,
    status: 400,
    code: V,
    field: 'name',
  },
  {
    name: 'a NUL in a zone name',
    method: 'POST',
    path: (w) => `/sites/${w.siteId}/zones`,
    body: () => ({ name: '\u0000' }),
    status: 400,
    code: V,
    field: 'name',
  },
  // Bad ids.
  {
    name: 'a path id that is not a UUID',
    method: 'GET',
    path: () => '/units/42',
    status: 400,
    code: V,
    field: 'id',
  },
  {
    name: 'a path id carrying SQL',
    method: 'GET',
    path: () => `/cameras/${encodeURIComponent("1' OR '1'='1")}`,
    status: 400,
    code: V,
    field: 'id',
  },
  {
    name: 'a body id that is not a UUID',
    method: 'POST',
    path: () => '/sites',
    body: site({ unitId: 'unit-1' }),
    status: 400,
    code: V,
    field: 'unitId',
  },
  {
    name: 'a body id as a number',
    method: 'POST',
    path: () => '/cameras',
    body: camera({ siteId: 7 }),
    status: 400,
    code: V,
    field: 'siteId',
  },
  {
    name: 'a session site id that is not a UUID',
    method: 'POST',
    path: () => '/batches',
    body: batch({}, { siteId: 'x' }),
    status: 400,
    code: V,
    field: 'sessions.0.siteId',
  },
  {
    name: 'a zone id that is not a UUID',
    method: 'PUT',
    path: (w) => `/cameras/${w.cameraId}/zones`,
    body: () => ({ zoneIds: ['zone-1'] }),
    status: 400,
    code: V,
    field: 'zoneIds.0',
  },
  // Cameras.
  {
    name: 'an HTTP URL as camera address',
    method: 'POST',
    path: () => '/cameras',
    body: camera({ rtspUrl: 'http://192.0.2.1/stream' }),
    status: 400,
    code: V,
    field: 'rtspUrl',
  },
  {
    name: 'a camera address that is not a URL',
    method: 'POST',
    path: () => '/cameras',
    body: camera({ rtspUrl: 'camera one' }),
    status: 400,
    code: V,
    field: 'rtspUrl',
  },
  {
    name: 'a camera with neither address nor ONVIF',
    method: 'POST',
    path: () => '/cameras',
    body: camera({ rtspUrl: undefined }),
    status: 400,
    code: V,
    field: 'rtspUrl',
  },
  {
    name: 'a camera with both address and ONVIF',
    method: 'POST',
    path: () => '/cameras',
    body: camera({ onvif: { host: '192.0.2.1', username: 'a', password: 'b' } }),
    status: 400,
    code: V,
    field: 'onvif',
  },
  // Paging.
  {
    name: 'a cursor that is not base64 JSON',
    method: 'GET',
    path: () => '/units?cursor=%%%garbage',
    status: 400,
    code: V,
    field: 'cursor',
  },
  {
    name: 'a cursor of the wrong shape',
    method: 'GET',
    path: () => `/sites?cursor=${Buffer.from('[1,2]').toString('base64url')}`,
    status: 400,
    code: V,
    field: 'cursor',
  },
  {
    name: 'a cursor of 300 characters',
    method: 'GET',
    path: () => `/batches?cursor=${'a'.repeat(300)}`,
    status: 400,
    code: V,
    field: 'cursor',
  },
  { name: 'limit 0', method: 'GET', path: () => '/units?limit=0', status: 400, code: V, field: 'limit' },
  { name: 'limit 201', method: 'GET', path: () => '/units?limit=201', status: 400, code: V, field: 'limit' },
  {
    name: 'limit as text',
    method: 'GET',
    path: () => '/sites?limit=ten',
    status: 400,
    code: V,
    field: 'limit',
  },
  {
    name: 'limit given twice',
    method: 'GET',
    path: () => '/sites?limit=1&limit=2',
    status: 400,
    code: V,
    field: 'limit',
  },
  // Requests express itself could not read (these were 500s).
  {
    name: 'a gzip content-encoding on a body that is not gzip',
    method: 'POST',
    path: () => '/units',
    body: () => JSON.stringify(unit({})()),
    headers: { 'content-encoding': 'gzip' },
    status: 400,
    code: 'bad_request',
    field: '(body)',
  },
  {
    name: 'a path with a truncated percent-encoded character',
    method: 'GET',
    path: () => '/sites/%E0%A4%A',
    status: 400,
    code: 'malformed_path',
    field: '(path)',
  },
  {
    name: 'a path with a percent sign not followed by hex',
    method: 'GET',
    path: () => '/cameras/%ZZ/live',
    status: 400,
    code: 'malformed_path',
    field: '(path)',
  },
  // Camera addresses reaching processes and sockets.
  {
    name: 'CR/LF in a camera address',
    method: 'POST',
    path: () => '/cameras',
    body: camera({ rtspUrl: 'rtsp://192.0.2.1/x\r\nSET probe-key injected\r\n' }),
    status: 400,
    code: V,
    field: 'rtspUrl',
  },
  {
    name: 'an ONVIF host carrying a path',
    method: 'POST',
    path: () => '/cameras',
    body: camera({ rtspUrl: undefined, onvif: { host: '192.0.2.1/evil?', username: 'a', password: 'b' } }),
    status: 400,
    code: V,
    field: 'onvif.host',
  },
  {
    name: "a camera address on the service's own PostgreSQL port",
    method: 'POST',
    path: () => '/cameras',
    body: camera({ rtspUrl: 'rtsp://127.0.0.1:5432/' }),
    status: 400,
    code: V,
    field: 'rtspUrl',
  },
  // Spans and sessions.
  {
    name: 'recordings from after to',
    method: 'GET',
    path: () => `/recordings?from=${encodeURIComponent(at(2))}&to=${encodeURIComponent(at(1))}`,
    status: 400,
    code: V,
    field: 'to',
  },
  {
    name: 'an export from after to',
    method: 'GET',
    path: (w) =>
      `/cameras/${w.cameraId}/export.mp4?from=${encodeURIComponent(at(2))}&to=${encodeURIComponent(at(1))}`,
    status: 400,
    code: V,
    field: 'to',
  },
  {
    name: 'a session from 1970 to 9999',
    method: 'POST',
    path: () => '/batches',
    body: batch({}, { startsAt: '1970-01-01T00:00:00Z', endsAt: '9999-12-31T00:00:00Z' }),
    status: 400,
    code: V,
    field: 'sessions.0.endsAt',
  },
  {
    name: 'a session longer than a day',
    method: 'POST',
    path: () => '/batches',
    body: batch({}, { startsAt: at(24), endsAt: at(49) }),
    status: 400,
    code: V,
    field: 'sessions.0.endsAt',
  },
  {
    name: 'a spot check with a from that is not a time (found by the fuzz run; was a 500)',
    method: 'POST',
    path: () => '/spot-checks',
    body: () => ({ count: 1, from: 'FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF', to: '%E0%A4%A' }),
    status: 400,
    code: V,
    field: 'from',
  },
  {
    name: 'an audit cursor below zero',
    method: 'GET',
    path: () => '/audit?cursor=-1',
    status: 400,
    code: V,
    field: 'cursor',
  },
];

/**
 * Bad input, table-driven: each case gets the right 4xx naming the field, none a 5xx, and nothing
 * is stored by a refused request.
 */
describe('bad input', () => {
  let svc: TestService;
  let admin: ApiClient;
  let operator: ApiClient;
  let w: World;

  beforeAll(async () => {
    svc = await startTestService(REGISTRY_ENV);
    admin = await svc.admin();
    const seeded = await seedUnit(svc, 'Bad');
    operator = seeded.operator;
    const other = (
      await admin.post('/sites', { unitId: seeded.unit.id, name: 'Other', zones: [{ name: 'O' }] })
    ).body;
    const cam = await operator.post('/cameras', {
      siteId: seeded.site.id,
      name: 'C',
      rtspUrl: 'rtsp://192.0.2.1/c',
    });
    w = {
      unitId: seeded.unit.id,
      siteId: seeded.site.id,
      zoneId: seeded.site.zones[0].id,
      otherSiteId: other.id,
      otherZoneId: other.zones[0].id,
      cameraId: cam.body.id,
    };
  });
  afterAll(async () => svc?.stop());

  it('has at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it.each(cases)('$name → $status $field', async (c) => {
    const before = await registryCounts(svc);
    const client = c.as === 'operator' ? operator : admin;
    const raw = c.body?.(w);
    const body = typeof raw === 'string' ? raw : raw instanceof Uint8Array ? new Uint8Array(raw) : raw;
    const res = await client.request(c.method, c.path(w), body, c.headers ?? {});
    expect(res.status).toBeLessThan(500);
    expectError(res, c.status, c.code, c.field);
    expect(await registryCounts(svc)).toEqual(before);
  });

  it('takes an id in upper case as the same id', async () => {
    const res = await admin.get(`/sites/${w.siteId.toUpperCase()}`);
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(w.siteId);
  });

  describe('text that looks like code is data', () => {
    const tricky = [
      "Robert'); DROP TABLE units;--",
      "' OR '1'='1",
      '<script>alert("x")</script>',
      '<img src=x onerror=alert(1)>',
      '${jndi:ldap://192.0.2.1/a}',
      '{{7*7}} $(rm -rf /) `id`',
      '考场 🎥📹 👩🏽‍🏫',
      'שלום \u202e evil',
      '\\u0000 is not NUL, just text',
    ];

    it.each(tricky)('stores %j verbatim and returns it unchanged as JSON', async (name) => {
      const created = await admin.post('/sites', {
        unitId: w.unitId,
        name,
        address: name,
        zones: [{ name }],
      });
      expect(created.status).toBe(201);
      expect(created.headers.get('content-type')).toContain('application/json');
      expect(created.headers.get('x-content-type-options')).toBe('nosniff');
      expect(created.body.name).toBe(name);
      expect(created.body.zones[0].name).toBe(name);
      const got = await admin.get(`/sites/${created.body.id}`);
      expect(got.body.name).toBe(name);
      expect(got.body.address).toBe(name);
      const [row] = await sql<{ name: string }>(svc.schema, 'SELECT name FROM sites WHERE id = $1', [
        created.body.id,
      ]);
      expect(row!.name).toBe(name);
    });

    it('an emoji and Chinese unit name is accepted', async () => {
      const res = await admin.post('/units', {
        name: '南京🎓技能评价中心',
        creditCode: VALID_CODE,
        kind: 'third_party',
      });
      expect(res.status).toBe(201);
      expect((await admin.get(`/units/${res.body.id}`)).body.name).toBe('南京🎓技能评价中心');
    });

    it('SQL in a query parameter filters nothing and breaks nothing', async () => {
      const res = await admin.get(`/audit?subject=${encodeURIComponent("' OR 1=1 --")}`);
      expect(res.status).toBe(200);
      expect(res.body.items).toEqual([]);
      const [tables] = await sql<{ n: number }>(
        svc.schema,
        `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name IN ('units', 'sites')`,
        [svc.schema],
      );
      expect(tables!.n).toBe(2);
    });
  });
});

import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { API_TYPES_FILE, generateApiTypes } from '../../scripts/gen-api-types.js';

describe('the web application API types', () => {
  it('are what openapi-typescript makes of the current OpenAPI document (npm run gen:api-types)', async () => {
    const committed = await readFile(API_TYPES_FILE, 'utf8');
    const fresh = await generateApiTypes();
    expect(committed, 'web/src/api-types.ts is out of date: run npm run gen:api-types').toBe(fresh);
    expect(fresh).toContain("'/api/v1/cameras/{id}/live'");
  });
});

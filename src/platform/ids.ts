import { randomUUID } from 'node:crypto';

export const newId = (): string => randomUUID();

export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const isId = (v: string): boolean => uuidPattern.test(v);

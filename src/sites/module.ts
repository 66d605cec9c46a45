import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../platform/db.js';
import type { Tenancy } from '../access/policy.js';
import { SiteService, type CameraStatusLookup } from './sites.js';
import { UnitService } from './units.js';

export interface SitesModule {
  units: UnitService;
  sites: SiteService;
}

/** Units, their sites, zones and which camera covers which zone. */
export function createSitesModule(
  db: Db,
  audit: AuditLog,
  deps: { tenancy: Tenancy; cameras: CameraStatusLookup },
): SitesModule {
  return {
    units: new UnitService(db, audit, deps.tenancy),
    sites: new SiteService(db, audit, deps.tenancy, deps.cameras),
  };
}

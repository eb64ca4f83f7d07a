import type Router from '@koa/router';
import type { RunningGateway } from './launch.js';

/**
 * Each part of AI Gate mounts its own admin endpoints under `/aigate/api`
 * through one of these; `admin-api.ts` owns authentication, the Host check and
 * error shape, and calls every registrar.
 */
export type AdminRoutes = (router: Router, gateway: RunningGateway) => void;

// GET /healthz: 200 when PostgreSQL and Redis both answer, else 503 naming what failed.
import { healthResponse } from '../health.server';

export const loader = () => healthResponse();

// GET /healthz: 200 when PostgreSQL and Redis both answer, else 503 with each one ok/down (the log
// says why).
import { healthResponse } from '../health.server';

export const loader = () => healthResponse();

import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` writes SQL migrations into db/migrations; they are committed and applied
// by `npm run db:migrate` (scripts/db-migrate.ts → db/migrate.ts) to PGlite or PostgreSQL.
export default defineConfig({
  dialect: 'postgresql',
  schema: './db/schema.ts',
  out: './db/migrations',
});

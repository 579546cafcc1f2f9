import pg from 'pg'
import type { Manifest, ManifestRole } from './manifest.ts'

/** What pg_dump leaves out: the database's own properties and the roles its objects name. */
export async function readClusterObjects(
  client: pg.Client,
): Promise<Pick<Manifest, 'database' | 'roles'>> {
  const { rows: databases } = await client.query(
    `SELECT d.datname AS name, pg_encoding_to_char(d.encoding) AS encoding,
            d.datcollate AS collate, d.datctype AS ctype,
            CASE WHEN d.datacl IS NULL THEN NULL ELSE coalesce((
              SELECT json_agg(json_build_object(
                       'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                                       ELSE (SELECT rolname FROM pg_roles WHERE oid = a.grantee) END,
                       'privilege', a.privilege_type) ORDER BY a.grantee, a.privilege_type)
                FROM aclexplode(d.datacl) a WHERE a.grantee <> d.datdba), '[]'::json) END AS privileges,
            coalesce((SELECT s.setconfig FROM pg_db_role_setting s
                       WHERE s.setdatabase = d.oid AND s.setrole = 0), '{}') AS settings
       FROM pg_database d WHERE d.datname = current_database()`,
  )
  // Every role a privilege, default privilege or policy of this database names, and the
  // memberships among them. Built-in roles (below the first user OID) and superusers are
  // the server's own business.
  const { rows: roles } = await client.query<ManifestRole>(
    `WITH referenced(oid) AS (
       SELECT a.grantee FROM pg_class c, aclexplode(c.relacl) a
       UNION SELECT a.grantee FROM pg_attribute t, aclexplode(t.attacl) a
       UNION SELECT a.grantee FROM pg_proc p, aclexplode(p.proacl) a
       UNION SELECT a.grantee FROM pg_namespace n, aclexplode(n.nspacl) a
       UNION SELECT a.grantee FROM pg_type t, aclexplode(t.typacl) a
       UNION SELECT a.grantee FROM pg_default_acl d, aclexplode(d.defaclacl) a
       UNION SELECT a.grantee FROM pg_database d, aclexplode(d.datacl) a
              WHERE d.datname = current_database()
       UNION SELECT unnest(polroles) FROM pg_policy
     ), named AS (
       SELECT r.oid, r.rolname, r.rolcanlogin, r.rolinherit FROM pg_roles r
        WHERE r.oid IN (SELECT oid FROM referenced) AND r.oid >= 16384 AND NOT r.rolsuper
     )
     SELECT n.rolname AS name, n.rolcanlogin AS login, n.rolinherit AS inherit,
            coalesce(array(SELECT g.rolname FROM pg_auth_members m JOIN named g ON g.oid = m.roleid
                            WHERE m.member = n.oid ORDER BY g.rolname)::text[], '{}') AS "memberOf"
       FROM named n ORDER BY n.rolname`,
  )
  return { database: databases[0] as Manifest['database'], roles }
}

/**
 * Creates the roles a backup names that this server lacks, before pg_restore grants to
 * them: without privileges, never superuser or BYPASSRLS, and without LOGIN (a login's
 * password is not in any backup: the deploy's migrate step sets it, as on a new server).
 */
export async function ensureRoles(
  client: pg.Client,
  roles: ManifestRole[],
): Promise<{ created: string[] }> {
  const created: string[] = []
  for (const role of roles) {
    const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [
      role.name,
    ])
    if (rowCount) continue
    await client.query(
      `CREATE ROLE ${pg.escapeIdentifier(role.name)} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE ${role.inherit ? 'INHERIT' : 'NOINHERIT'}`,
    )
    created.push(role.name)
  }
  for (const role of roles)
    for (const parent of role.memberOf) {
      const { rowCount } = await client.query(
        `SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
           JOIN pg_roles r ON r.oid = m.member WHERE g.rolname = $1 AND r.rolname = $2`,
        [parent, role.name],
      )
      if (!rowCount)
        await client.query(
          `GRANT ${pg.escapeIdentifier(parent)} TO ${pg.escapeIdentifier(role.name)}`,
        )
    }
  return { created }
}

/** The database's privileges and settings as they were (pg_restore restores neither). */
export async function applyDatabaseProperties(
  client: pg.Client,
  target: string,
  database: Manifest['database'],
) {
  const name = pg.escapeIdentifier(target)
  if (database.privileges) {
    await client.query(`REVOKE ALL ON DATABASE ${name} FROM PUBLIC`)
    for (const { grantee, privilege } of database.privileges)
      await client.query(
        `GRANT ${privilege} ON DATABASE ${name} TO ${grantee === 'PUBLIC' ? 'PUBLIC' : pg.escapeIdentifier(grantee)}`,
      )
  }
  for (const setting of database.settings) {
    const at = setting.indexOf('=')
    await client.query(
      `ALTER DATABASE ${name} SET ${pg.escapeIdentifier(setting.slice(0, at))} TO ${pg.escapeLiteral(setting.slice(at + 1))}`,
    )
  }
}

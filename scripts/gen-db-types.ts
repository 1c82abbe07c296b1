/**
 * Prints TypeScript types for the `public` schema of a migrated database, in
 * the shape `supabase gen types typescript` produces (postgres-meta's
 * template), without Docker: a `Database` type with
 * `public: { Tables: { <name>: { Row, Insert, Update, Relationships } },
 * Views, Functions, Enums, CompositeTypes }` and the `Tables`,
 * `TablesInsert`, `TablesUpdate`, `Enums`, `CompositeTypes` helpers and the
 * `Constants` object.
 *
 * Usage: deno run --allow-net --allow-env --allow-read scripts/gen-db-types.ts <database url>
 * (normally through scripts/gen-db-types.sh, which formats and writes or
 * checks functions/_shared/database.types.ts).
 *
 * Ordering is deterministic: schemas, tables, columns, relationships,
 * functions and enum values are sorted by name (byte order), so the same
 * database always yields the same text.
 *
 * @module
 */

import postgres from "npm:postgres@3.4.5";

const SCHEMAS = ["public"];

interface Column {
  table_name: string;
  name: string;
  type_name: string;
  type_schema: string;
  is_nullable: boolean;
  has_default: boolean;
  identity: string;
  generated: string;
}

interface Relation {
  schema: string;
  name: string;
  kind: string;
}

interface Relationship {
  table_name: string;
  constraint_name: string;
  columns: string[];
  referenced_table: string;
  referenced_columns: string[];
  is_one_to_one: boolean;
}

interface EnumType {
  schema: string;
  name: string;
  values: string[];
}

interface FunctionArgument {
  name: string;
  type_name: string;
  mode: string;
  has_default: boolean;
}

interface FunctionInfo {
  schema: string;
  name: string;
  arguments: FunctionArgument[];
  return_type: string;
  returns_set: boolean;
}

/** The helper types `supabase gen types typescript` appends, verbatim in meaning. */
// deno-fmt-ignore
const HELPERS = `type DefaultSchema = Database[Extract<keyof Database, "public">];

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof Database },
  TableName extends DefaultSchemaTableNameOrOptions extends { schema: keyof Database }
    ? keyof (Database[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      Database[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never = never,
> = DefaultSchemaTableNameOrOptions extends { schema: keyof Database }
  ? (Database[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
    Database[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends { Row: infer R } ? R
  : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    ? (DefaultSchema["Tables"] & DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends { Row: infer R }
      ? R
    : never
  : never;

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"] | { schema: keyof Database },
  TableName extends DefaultSchemaTableNameOrOptions extends { schema: keyof Database }
    ? keyof Database[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never,
> = DefaultSchemaTableNameOrOptions extends { schema: keyof Database }
  ? Database[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends { Insert: infer I } ? I
  : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends { Insert: infer I } ? I
    : never
  : never;

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"] | { schema: keyof Database },
  TableName extends DefaultSchemaTableNameOrOptions extends { schema: keyof Database }
    ? keyof Database[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never,
> = DefaultSchemaTableNameOrOptions extends { schema: keyof Database }
  ? Database[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends { Update: infer U } ? U
  : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends { Update: infer U } ? U
    : never
  : never;

export type Enums<
  DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"] | { schema: keyof Database },
  EnumName extends DefaultSchemaEnumNameOrOptions extends { schema: keyof Database }
    ? keyof Database[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never = never,
> = DefaultSchemaEnumNameOrOptions extends { schema: keyof Database }
  ? Database[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
    ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
  : never;

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"] | { schema: keyof Database },
  CompositeTypeName extends PublicCompositeTypeNameOrOptions extends { schema: keyof Database }
    ? keyof Database[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never = never,
> = PublicCompositeTypeNameOrOptions extends { schema: keyof Database }
  ? Database[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
    ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
  : never;
`;

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const quote = (value: string) => JSON.stringify(value);
/** A property key: bare when it is an identifier, quoted otherwise (as prettier prints them). */
const key = (
  value: string,
) => (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(value) ? value : quote(value));

const databaseUrl = Deno.args[0];
if (databaseUrl === undefined) {
  console.error("usage: gen-db-types.ts <database url>");
  Deno.exit(2);
}

const sql = postgres(databaseUrl, {
  max: 1,
  prepare: false,
  onnotice: () => {},
});

try {
  const relations = await sql<Relation[]>`
    select n.nspname as schema, c.relname as name, c.relkind as kind
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = any(${SCHEMAS}) and c.relkind in ('r', 'p', 'f', 'v', 'm')`;

  const columns = await sql<Column[]>`
    select c.relname as table_name, a.attname as name,
           coalesce(bt.typname, t.typname) as type_name,
           coalesce(btn.nspname, tn.nspname) as type_schema,
           not (a.attnotnull or (t.typtype = 'd' and t.typnotnull)) as is_nullable,
           a.atthasdef or (t.typtype = 'd' and t.typdefault is not null) as has_default,
           a.attidentity::text as identity, a.attgenerated::text as generated
    from pg_attribute a
    join pg_class c on c.oid = a.attrelid
    join pg_namespace n on n.oid = c.relnamespace
    join pg_type t on t.oid = a.atttypid
    join pg_namespace tn on tn.oid = t.typnamespace
    left join pg_type bt on t.typtype = 'd' and bt.oid = t.typbasetype
    left join pg_namespace btn on btn.oid = bt.typnamespace
    where n.nspname = any(${SCHEMAS}) and c.relkind in ('r', 'p', 'f', 'v', 'm')
      and a.attnum > 0 and not a.attisdropped`;

  const relationships = await sql<Relationship[]>`
    select c.relname as table_name, k.conname as constraint_name,
           array(select a.attname from unnest(k.conkey) with ordinality as u(attnum, i)
                 join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.attnum order by u.i)
             as columns,
           r.relname as referenced_table,
           array(select a.attname from unnest(k.confkey) with ordinality as u(attnum, i)
                 join pg_attribute a on a.attrelid = k.confrelid and a.attnum = u.attnum order by u.i)
             as referenced_columns,
           exists (
             select 1 from pg_constraint uk
             where uk.conrelid = k.conrelid and uk.contype in ('p', 'u')
               and (select array_agg(x order by x) from unnest(uk.conkey) x)
                 = (select array_agg(x order by x) from unnest(k.conkey) x)
           ) as is_one_to_one
    from pg_constraint k
    join pg_class c on c.oid = k.conrelid
    join pg_namespace n on n.oid = c.relnamespace
    join pg_class r on r.oid = k.confrelid
    join pg_namespace rn on rn.oid = r.relnamespace
    where k.contype = 'f' and n.nspname = any(${SCHEMAS}) and rn.nspname = n.nspname`;

  const enums = await sql<EnumType[]>`
    select n.nspname as schema, t.typname as name,
           array(select e.enumlabel::text from pg_enum e where e.enumtypid = t.oid order by e.enumsortorder)
             as values
    from pg_type t join pg_namespace n on n.oid = t.typnamespace
    where t.typtype = 'e' and n.nspname = any(${SCHEMAS})`;

  const functions = await sql<FunctionInfo[]>`
    select n.nspname as schema, p.proname as name,
           coalesce((
             select json_agg(json_build_object(
                      'name', coalesce(p.proargnames[u.i], ''),
                      'type_name', t.typname,
                      'mode', case coalesce(p.proargmodes[u.i], 'i')
                                when 'i' then 'in' when 'o' then 'out' when 'b' then 'inout'
                                when 'v' then 'variadic' when 't' then 'table' end,
                      'has_default', u.i > coalesce(array_length(p.proallargtypes, 1), p.pronargs) - p.pronargdefaults
                                     and coalesce(p.proargmodes[u.i], 'i') in ('i', 'b', 'v'))
                    order by u.i)
             from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality as u(type_oid, i)
             join pg_type t on t.oid = u.type_oid
           ), '[]'::json) as arguments,
           rt.typname as return_type, p.proretset as returns_set
    from pg_proc p
    join pg_namespace n on n.oid = p.pronamespace
    join pg_type rt on rt.oid = p.prorettype
    where n.nspname = any(${SCHEMAS}) and p.prokind = 'f'
      and rt.typname not in ('trigger', 'event_trigger')`;

  const tsType = (typeName: string, typeSchema = "public"): string => {
    if (typeName === "bool") return "boolean";
    if (
      ["int2", "int4", "int8", "float4", "float8", "numeric", "oid"].includes(
        typeName,
      )
    ) return "number";
    if (
      [
        "bytea",
        "bpchar",
        "varchar",
        "date",
        "text",
        "citext",
        "name",
        "time",
        "timetz",
        "timestamp",
        "timestamptz",
        "uuid",
        "interval",
        "inet",
        "cidr",
        "vector",
      ].includes(typeName)
    ) return "string";
    if (typeName === "json" || typeName === "jsonb") return "Json";
    if (typeName === "void") return "undefined";
    if (typeName === "record") return "Record<string, unknown>";
    if (typeName.startsWith("_")) {
      return `(${tsType(typeName.substring(1), typeSchema)})[]`;
    }
    const enumType = enums.find((e) => e.name === typeName && e.schema === typeSchema);
    if (enumType) {
      return `Database[${quote(enumType.schema)}]["Enums"][${quote(enumType.name)}]`;
    }
    const tableType = relations.find((r) => r.name === typeName && r.schema === typeSchema);
    if (tableType) {
      const section = ["v", "m"].includes(tableType.kind) ? "Views" : "Tables";
      return `Database[${quote(tableType.schema)}][${quote(section)}][${quote(tableType.name)}]["Row"]`;
    }
    return "unknown";
  };

  const out: string[] = [];
  const line = (text = "") => out.push(text);

  line(
    "// Generated by scripts/gen-db-types.sh from the migrated database; do not edit.",
  );
  line(
    "// The shape is that of `supabase gen types typescript` (postgres-meta's template).",
  );
  line("");
  line(
    "export type Json = string | number | boolean | null | { [key: string]: Json | undefined } | Json[];",
  );
  line("");
  line("export type Database = {");
  for (const schema of [...SCHEMAS].sort(byName)) {
    const schemaRelations = relations.filter((r) => r.schema === schema).sort((
      a,
      b,
    ) => byName(a.name, b.name));
    const tables = schemaRelations.filter((r) => ["r", "p", "f"].includes(r.kind));
    const views = schemaRelations.filter((r) => ["v", "m"].includes(r.kind));
    const columnsOf = (table: string) =>
      columns.filter((c) => c.table_name === table).sort((a, b) => byName(a.name, b.name));
    const relationshipsOf = (table: string) =>
      relationships
        .filter((r) => r.table_name === table)
        .sort((a, b) =>
          byName(a.constraint_name, b.constraint_name) ||
          byName(a.referenced_table, b.referenced_table)
        );
    const nullable = (c: Column) => (c.is_nullable ? " | null" : "");

    line(`  ${key(schema)}: {`);
    line("    Tables: {");
    if (tables.length === 0) line("      [_ in never]: never;");
    for (const table of tables) {
      line(`      ${key(table.name)}: {`);
      line("        Row: {");
      for (const c of columnsOf(table.name)) {
        line(
          `          ${key(c.name)}: ${tsType(c.type_name, c.type_schema)}${nullable(c)};`,
        );
      }
      line("        };");
      for (const section of ["Insert", "Update"]) {
        line(`        ${section}: {`);
        for (const c of columnsOf(table.name)) {
          if (c.identity === "a" || c.generated === "s") {
            line(`          ${key(c.name)}?: never;`);
            continue;
          }
          const optional = section === "Update" || c.is_nullable ||
            c.has_default || c.identity === "d";
          line(
            `          ${key(c.name)}${optional ? "?" : ""}: ${tsType(c.type_name, c.type_schema)}${
              nullable(c)
            };`,
          );
        }
        line("        };");
      }
      line("        Relationships: [");
      for (const r of relationshipsOf(table.name)) {
        line("          {");
        line(`            foreignKeyName: ${quote(r.constraint_name)};`);
        line(`            columns: ${JSON.stringify(r.columns)};`);
        line(`            isOneToOne: ${r.is_one_to_one};`);
        line(`            referencedRelation: ${quote(r.referenced_table)};`);
        line(
          `            referencedColumns: ${JSON.stringify(r.referenced_columns)};`,
        );
        line("          },");
      }
      line("        ];");
      line("      };");
    }
    line("    };");

    line("    Views: {");
    if (views.length === 0) line("      [_ in never]: never;");
    for (const view of views) {
      line(`      ${key(view.name)}: {`);
      line("        Row: {");
      for (const c of columnsOf(view.name)) {
        line(
          `          ${key(c.name)}: ${tsType(c.type_name, c.type_schema)}${nullable(c)};`,
        );
      }
      line("        };");
      line("        Relationships: [];");
      line("      };");
    }
    line("    };");

    line("    Functions: {");
    const schemaFunctions = functions
      .filter((f) => f.schema === schema)
      .filter((f) => {
        const inArgs = f.arguments.filter((a) => ["in", "inout", "variadic"].includes(a.mode));
        return !inArgs.some((a) => a.name === "") || inArgs.length === 1;
      })
      .sort((a, b) => byName(a.name, b.name));
    if (schemaFunctions.length === 0) line("      [_ in never]: never;");
    const functionNames = [...new Set(schemaFunctions.map((f) => f.name))];
    for (const name of functionNames) {
      const overloads = schemaFunctions.filter((f) => f.name === name);
      const args = overloads.map((f) => {
        const inArgs = f.arguments.filter((a) => a.mode === "in");
        if (inArgs.length === 0) return "Record<PropertyKey, never>";
        return `{ ${
          inArgs.map((a) => `${key(a.name)}${a.has_default ? "?" : ""}: ${tsType(a.type_name)}`).join("; ")
        } }`;
      }).sort(byName);
      const first = overloads[0];
      const tableArgs = first.arguments.filter((a) => a.mode === "table");
      const returns = tableArgs.length > 0
        ? `{ ${
          tableArgs.map((a) => `${key(a.name)}: ${tsType(a.type_name)}`).join(
            "; ",
          )
        } }`
        : tsType(first.return_type);
      line(`      ${key(name)}: {`);
      line(`        Args: ${args.join(" | ")};`);
      line(`        Returns: ${returns}${first.returns_set ? "[]" : ""};`);
      line("      };");
    }
    line("    };");

    line("    Enums: {");
    const schemaEnums = enums.filter((e) => e.schema === schema).sort((a, b) => byName(a.name, b.name));
    if (schemaEnums.length === 0) line("      [_ in never]: never;");
    for (const e of schemaEnums) {
      line(`      ${key(e.name)}: ${e.values.map(quote).join(" | ")};`);
    }
    line("    };");
    line("    CompositeTypes: {");
    line("      [_ in never]: never;");
    line("    };");
    line("  };");
  }
  line("};");
  line("");
  line(HELPERS);
  line("export const Constants = {");
  for (const schema of [...SCHEMAS].sort(byName)) {
    line(`  ${key(schema)}: {`);
    line("    Enums: {");
    for (
      const e of enums.filter((e) => e.schema === schema).sort((a, b) => byName(a.name, b.name))
    ) {
      line(`      ${key(e.name)}: [${e.values.map(quote).join(", ")}],`);
    }
    line("    },");
    line("  },");
  }
  line("} as const;");

  console.log(out.join("\n"));
} finally {
  await sql.end({ timeout: 5 });
}

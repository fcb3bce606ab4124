/* The configuration schema (schema.c). */
#ifndef CUBIE_SCHEMA_H
#define CUBIE_SCHEMA_H
enum cfg_type { CFG_STR, CFG_NUM, CFG_INT, CFG_AUTO_INT, CFG_NAMES, CFG_CHOICE, CFG_NUMS,
                CFG_GPUS /* a device number, a list of them, or all */ };
struct cfg_key {
	const char *section, *key;
	int type;
	const char *def; /* NULL: no default */
	const char *doc; /* for CFG_CHOICE: the choices, '|'-separated */
};
extern const struct cfg_key cfg_schema[];
extern const char *const cfg_free_sections[];
#endif

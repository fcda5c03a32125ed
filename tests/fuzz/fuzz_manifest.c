/* fuzz_manifest.c - libFuzzer harness for common/manifest.h (app.yaml, its JSON
 * form, NAME@VERSION).
 *
 * Input: an app.yaml document.  Invariants checked:
 *   - a failure gives NULL, FS_EINVAL (FS_EFAIL only for out of memory) and a
 *     message "app.yaml:LINE:COL: ..." or "app.yaml: ...";
 *   - a manifest that loads has valid names and versions, 1..64 entry points
 *     whose paths are relative without '.', '..' or empty components, and
 *     requirements of the allowed characters;
 *   - its JSON form loads back to the same manifest;
 *   - the input, read as NAME@VERSION, parses or fails with FS_EINVAL.
 * Everything is freed (LeakSanitizer runs after each input).
 */
#include "fuzz_util.h"
#include "common/manifest.h"

#define NAME "app.yaml"

static void check_path (const char *p)
{
    FUZZ_CHECK (p[0] && p[0] != '/', "entry path '%s' is empty or absolute", p);
    for (const char *c = p; *c;) {
        size_t len = strcspn (c, "/");
        FUZZ_CHECK (len > 0 && !(len == 1 && c[0] == '.') && !(len == 2 && c[0] == '.' && c[1] == '.'),
                    "entry path '%s' has an empty, '.' or '..' component", p);
        c += len;
        if (*c)
            c++;
    }
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup (data, size);
    fs_error_t err = { 0 };
    struct app_manifest *m = manifest_load_string (NAME, text, size, &err);
    if (!m) {
        FUZZ_CHECK (err.code == FS_EINVAL || err.code == FS_EFAIL, "code %d: %s", err.code, err.text);
        FUZZ_CHECK (!strncmp (err.text, NAME ":", strlen (NAME ":")), "message: %s", err.text);
    } else {
        fs_error_t e;
        FUZZ_CHECK (app_name_valid (m->name, &e) == 0, "name '%s'", m->name);
        FUZZ_CHECK (app_version_valid (m->version, &e) == 0, "version '%s'", m->version);
        FUZZ_CHECK (m->nentry >= 1 && m->nentry <= APP_ENTRY_MAX, "%d entries", m->nentry);
        for (int i = 0; i < m->nentry; i++)
            check_path (m->entry[i].path);
        json_t *j = manifest_to_json (m);
        struct app_manifest *m2 = manifest_from_json (j, "fuzz", &e);
        FUZZ_CHECK (m2, "the JSON form does not load back: %s", e.text);
        FUZZ_CHECK (!strcmp (m->name, m2->name) && !strcmp (m->version, m2->version)
                    && m->mpi == m2->mpi && m->nentry == m2->nentry
                    && m->nrequires == m2->nrequires, "the JSON form differs");
        for (int i = 0; i < m->nentry; i++)
            FUZZ_CHECK (manifest_entry (m2, m->entry[i].name)
                        && !strcmp (manifest_entry (m2, m->entry[i].name), m->entry[i].path),
                        "entry %s differs", m->entry[i].name);
        free (m2);
        json_decref (j);
        free (m);
    }
    char n[APP_NAME_MAX], v[APP_NAME_MAX];
    fs_error_t e2 = { 0 };
    if (app_ref_parse (text, n, v, &e2) < 0)
        FUZZ_CHECK (e2.code == FS_EINVAL, "app_ref_parse code %d", e2.code);
    free (text);
    return 0;
}

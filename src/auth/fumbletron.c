/* SPDX-License-Identifier: MIT */
/* fumbletron: the Fumbletron-3156 token rule (shape plus a Luhn mod 36 check character, see
 * docs/FUMBLETRON.md); pure functions apart from the random source of fumbletron_generate(). */
#include "auth.h"
#include "common/common.h"

#include <sodium.h>
#include <string.h>

#define FT_PREFIX "FT3156-"
#define FT_PREFIX_LEN 7
#define FT_N 36       /* size of the alphabet: Luhn mod N with N = 36 */
#define FT_PAYLOAD 11 /* payload characters before the check character */

static const char ft_alphabet[FT_N + 1] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/* Code point of an upper-case alphabet character, or -1. */
static int ft_code(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return -1;
}

/* The Luhn mod N sum over codes[0..n-1], walking from the right with factors 2, 1, 2, ... when
 * first_factor is 2 (making a check character) or 1, 2, 1, ... (checking one). */
static int ft_sum(const int *codes, int n, int first_factor)
{
    int factor = first_factor, sum = 0;

    for (int i = n - 1; i >= 0; i--) {
        int p = codes[i] * factor;
        sum += p / FT_N + p % FT_N;
        factor = factor == 2 ? 1 : 2;
    }
    return sum % FT_N;
}

/* Upper-cases token into out (22 bytes) and extracts the 12 code points; -1 on a bad shape. */
static int ft_parse(const char *token, char out[FUMBLETRON_LEN + 1], int codes[FT_PAYLOAD + 1])
{
    int k = 0;

    if (token == NULL || strlen(token) != FUMBLETRON_LEN)
        return -1;
    for (int i = 0; i < FUMBLETRON_LEN; i++) {
        char c = token[i];
        out[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
    }
    out[FUMBLETRON_LEN] = '\0';
    if (memcmp(out, FT_PREFIX, FT_PREFIX_LEN) != 0)
        return -1;
    for (int i = FT_PREFIX_LEN; i < FUMBLETRON_LEN; i++) {
        /* Groups of four start at 7, 12 and 17; the dashes sit at 11 and 16. */
        if (i == 11 || i == 16) {
            if (out[i] != '-')
                return -1;
            continue;
        }
        if ((codes[k++] = ft_code(out[i])) < 0)
            return -1;
    }
    return 0;
}

int fumbletron_valid(const char *token)
{
    char up[FUMBLETRON_LEN + 1];
    int codes[FT_PAYLOAD + 1];

    if (ft_parse(token, up, codes) < 0)
        return 0;
    return ft_sum(codes, FT_PAYLOAD + 1, 1) == 0;
}

int fumbletron_normalize(const char *token, char *out, size_t outlen)
{
    char up[FUMBLETRON_LEN + 1];
    int codes[FT_PAYLOAD + 1];

    if (outlen > 0)
        out[0] = '\0';
    if (outlen < sizeof up || ft_parse(token, up, codes) < 0 ||
        ft_sum(codes, FT_PAYLOAD + 1, 1) != 0)
        return -1;
    memcpy(out, up, sizeof up);
    return 0;
}

char *fumbletron_generate(void)
{
    int codes[FT_PAYLOAD];
    char *t = xmalloc(FUMBLETRON_LEN + 1);
    int k = 0, check;

    for (int i = 0; i < FT_PAYLOAD; i++)
        codes[i] = (int)randombytes_uniform(FT_N);
    check = (FT_N - ft_sum(codes, FT_PAYLOAD, 2)) % FT_N;
    memcpy(t, FT_PREFIX, FT_PREFIX_LEN);
    for (int i = FT_PREFIX_LEN; i < FUMBLETRON_LEN; i++) {
        if (i == 11 || i == 16)
            t[i] = '-';
        else
            t[i] = ft_alphabet[k < FT_PAYLOAD ? codes[k++] : check];
    }
    t[FUMBLETRON_LEN] = '\0';
    return t;
}

const char *fumbletron_badge(int valid)
{
    return valid ? "Fumbletron-3156: VALID" : "Fumbletron-3156: INVALID";
}

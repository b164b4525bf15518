/* main.c - the dsim program: everything happens in cli.c. */
#include <libxml/parser.h>

#include "sim/cli.h"

int main(int argc, char **argv)
{
    xmlInitParser();
    int status = dsim_cli_main(argc, argv);
    xmlCleanupParser();
    return status;
}

#include "vmlib.h"
void guest_main(struct hv_root_info *info) { guest_init(); gprintf("root-test: TODO\n"); guest_exit(false); }

/*
 * Verdicts written to QEMU's isa-debug-exit port (0xf4); QEMU then exits
 * with status (code << 1) | 1. Kept distinct so a test can tell why a boot
 * ended. Shared by assembly and C.
 */
#ifndef X86_EXIT_CODES_H
#define X86_EXIT_CODES_H

#define HV_EXIT_PORT           0xf4

#define HV_EXIT_PASS           0x10    /* status 33 */
#define HV_EXIT_FAIL           0x11    /* status 35: a self-test failed */
#define HV_EXIT_PANIC          0x12    /* status 37 */
#define HV_EXIT_BAD_BOOTINFO   0x13    /* status 39: malformed multiboot2 info */
#define HV_EXIT_BAD_MAGIC      0x14    /* status 41: not started by multiboot2 */
#define HV_EXIT_NO_LONG_MODE   0x15    /* status 43 */
#define HV_EXIT_EXCEPTION      0x16    /* status 45: unexpected CPU exception */
#define HV_EXIT_NO_VIRT        0x17    /* status 47: no usable VMX/SVM */
#define HV_EXIT_INIT_FAILED    0x19    /* status 51: staged init rolled back */

#endif

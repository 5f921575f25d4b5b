/* VMCB layout (AMD64 APM Vol. 2, appendix B), as offsets into the page. */
#ifndef X86_SVM_VMCB_H
#define X86_SVM_VMCB_H

/* Control area. */
#define VMCB_INTERCEPT_CR       0x000   /* reads 15:0, writes 31:16 */
#define VMCB_INTERCEPT_DR       0x004   /* reads 15:0, writes 31:16 */
#define VMCB_INTERCEPT_EXC      0x008
#define VMCB_INTERCEPT_MISC1    0x00c
#define VMCB_INTERCEPT_MISC2    0x010
#define VMCB_PAUSE_FILTER_COUNT 0x03e   /* u16 */
#define VMCB_IOPM_BASE          0x040
#define VMCB_MSRPM_BASE         0x048
#define VMCB_TSC_OFFSET         0x050
#define VMCB_ASID               0x058
#define VMCB_TLB_CONTROL        0x05c
#define VMCB_VINTR              0x060
#define VMCB_INT_SHADOW         0x068
#define VMCB_EXITCODE           0x070
#define VMCB_EXITINFO1          0x078
#define VMCB_EXITINFO2          0x080
#define VMCB_EXITINTINFO        0x088
#define VMCB_NP_ENABLE          0x090
#define VMCB_EVENTINJ           0x0a8
#define VMCB_N_CR3              0x0b0
#define VMCB_CLEAN              0x0c0
#define VMCB_NRIP               0x0c8

/* Save area. Segments: selector u16, attrib u16, limit u32, base u64. */
#define VMCB_ES                 0x400
#define VMCB_CS                 0x410
#define VMCB_SS                 0x420
#define VMCB_DS                 0x430
#define VMCB_FS                 0x440
#define VMCB_GS                 0x450
#define VMCB_GDTR               0x460
#define VMCB_LDTR               0x470
#define VMCB_IDTR               0x480
#define VMCB_TR                 0x490
#define VMCB_CPL                0x4cb
#define VMCB_EFER               0x4d0
#define VMCB_CR4                0x548
#define VMCB_CR3                0x550
#define VMCB_CR0                0x558
#define VMCB_DR7                0x560
#define VMCB_DR6                0x568
#define VMCB_RFLAGS             0x570
#define VMCB_RIP                0x578
#define VMCB_RSP                0x5d8
#define VMCB_RAX                0x5f8
#define VMCB_STAR               0x600
#define VMCB_LSTAR              0x608
#define VMCB_CSTAR              0x610
#define VMCB_SFMASK             0x618
#define VMCB_KERNEL_GS_BASE     0x620
#define VMCB_SYSENTER_CS        0x628
#define VMCB_SYSENTER_ESP       0x630
#define VMCB_SYSENTER_EIP       0x638
#define VMCB_CR2                0x640
#define VMCB_G_PAT              0x668

/* Intercept bits in MISC1 (offset 0x00c). */
#define ICPT_INTR               (1u << 0)
#define ICPT_VINTR              (1u << 4)
#define ICPT_RDPMC              (1u << 15)
#define ICPT_IRET               (1u << 20)
#define ICPT_INVLPGA            (1u << 26)
#define ICPT_NMI                (1u << 1)
#define ICPT_SMI                (1u << 2)
#define ICPT_INIT               (1u << 3)
#define ICPT_CPUID              (1u << 18)
#define ICPT_INVD               (1u << 22)
#define ICPT_HLT                (1u << 24)
#define ICPT_PAUSE              (1u << 23)
#define ICPT_IOIO               (1u << 27)
#define ICPT_MSR                (1u << 28)
#define ICPT_SHUTDOWN           (1u << 31)
/* MISC2 (offset 0x010). */
#define ICPT_VMRUN              (1u << 0)
#define ICPT_VMMCALL            (1u << 1)
#define ICPT_VMLOAD             (1u << 2)
#define ICPT_VMSAVE             (1u << 3)
#define ICPT_STGI               (1u << 4)
#define ICPT_CLGI               (1u << 5)
#define ICPT_SKINIT             (1u << 6)
#define ICPT_WBINVD             (1u << 9)
#define ICPT_MONITOR            (1u << 10)
#define ICPT_MWAIT              (1u << 11)
#define ICPT_MWAIT_COND         (1u << 12)
#define ICPT_XSETBV             (1u << 13)

/* VINTR (offset 0x060): V_TPR 7:0, V_IRQ 8, V_INTR_PRIO 19:16, V_IGN_TPR
 * 20, V_INTR_MASKING 24, V_INTR_VECTOR 39:32 (APM 15.21.1). */
#define VINTR_TPR_MASK          0xffULL
#define VINTR_IRQ               (1ULL << 8)
#define VINTR_PRIO_SHIFT        16
#define VINTR_IGN_TPR           (1ULL << 20)
#define VINTR_MASKING           (1ULL << 24)

/* EVENTINJ / EXITINTINFO (APM 15.20): vector 7:0, type 10:8, EV 11,
 * V 31, error code 63:32. */
#define EVENT_TYPE_INTR         (0u << 8)
#define EVENT_TYPE_NMI          (2u << 8)
#define EVENT_TYPE_EXCEPTION    (3u << 8)
#define EVENT_TYPE_SOFT         (4u << 8)
#define EVENT_ERROR_VALID       (1u << 11)
#define EVENT_VALID             (1u << 31)

/* TLB_CONTROL (APM 15.16.1). */
#define TLB_CONTROL_NONE        0
#define TLB_CONTROL_FLUSH_ALL   1
#define TLB_CONTROL_FLUSH_ASID  3

/* Exit codes. */
#define SVM_EXIT_READ_DR0       0x020
#define SVM_EXIT_WRITE_DR15     0x03f
#define SVM_EXIT_EXCP_BASE      0x040
#define SVM_EXIT_INTR           0x060
#define SVM_EXIT_NMI            0x061
#define SVM_EXIT_SMI            0x062
#define SVM_EXIT_INIT           0x063
#define SVM_EXIT_VINTR          0x064
#define SVM_EXIT_RDPMC          0x06f
#define SVM_EXIT_CPUID          0x072
#define SVM_EXIT_IRET           0x074
#define SVM_EXIT_INVD           0x076
#define SVM_EXIT_HLT            0x078
#define SVM_EXIT_INVLPGA        0x07a
#define SVM_EXIT_IOIO           0x07b
#define SVM_EXIT_MSR            0x07c
#define SVM_EXIT_SHUTDOWN       0x07f
#define SVM_EXIT_VMRUN          0x080
#define SVM_EXIT_VMMCALL        0x081
#define SVM_EXIT_VMLOAD         0x082
#define SVM_EXIT_VMSAVE         0x083
#define SVM_EXIT_STGI           0x084
#define SVM_EXIT_CLGI           0x085
#define SVM_EXIT_SKINIT         0x086
#define SVM_EXIT_WBINVD         0x089
#define SVM_EXIT_MONITOR        0x08a
#define SVM_EXIT_MWAIT          0x08b
#define SVM_EXIT_MWAIT_COND     0x08c
#define SVM_EXIT_XSETBV         0x08d
#define SVM_EXIT_PAUSE          0x077
#define SVM_EXIT_NPF            0x400
#define SVM_EXIT_INVALID        (~0ULL)

#endif

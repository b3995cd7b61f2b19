#ifndef HV_X86_PIC_H
#define HV_X86_PIC_H

void pic_disable(void);

#endif
